#pragma once
/// The scenario compiled for the batch kernel: dense float arrays, indices instead of ids, events
/// in the order they are processed within a month, and for each month the events that may fire.

#include <cstdint>
#include <vector>

#include "scenario/Scenario.hpp"

namespace alignsim {

/// Runs advanced together by the kernel. Every run goes through the same fixed-width loops, so a
/// run's result does not depend on which batch, thread or process computed it.
inline constexpr int kLanes = 16;

/// Philox counter tags in the "month" word for draws that belong to no month.
inline constexpr std::uint32_t kTagOccurrence = 0xFFFFFFF0u;  ///< probability and jitter
inline constexpr std::uint32_t kTagShock = 0xFFFFFFF1u;       ///< shock magnitudes
inline constexpr std::uint32_t kNoiseStream = 0;             ///< the dynamics noise

struct CompiledShock {
  int ij{};       ///< flat index i * N + j
  int ji = -1;    ///< j * N + i when both ways, else -1
  float mean{};
  float sd{};
};

struct CompiledShift {
  int cell{};  ///< agent * D + issue
  bool set_position = false, add_position = false, set_salience = false, add_salience = false;
  float position{}, salience{};
};

struct CompiledCapability {
  int agent{};
  bool multiply = false;
  float value{};
};

struct CompiledEvent {
  int scenario_index{};        ///< position in Scenario::events (and in output files)
  std::uint32_t stream{};      ///< Philox stream, from the id
  bool decision = false;
  int date{};                  ///< month index of the scheduled date
  int jitter{};
  float probability = 1.0f;
  bool random_occurrence = false;  ///< probability < 1 or jitter > 0
  int window_from{}, window_to{};  ///< decision window, month indices
  float b0{};
  std::vector<int> dyad_ab, dyad_ba;  ///< flat indices of each hazard dyad, both directions
  std::vector<float> dyad_coef;
  std::vector<int> after;  ///< processing positions of the events in the hazard
  std::vector<float> after_coef;
  std::vector<int> required, excluded;  ///< processing positions
  std::vector<CompiledShock> shocks;
  std::vector<CompiledShift> shifts;
  std::vector<CompiledCapability> capabilities;
};

class Model {
 public:
  explicit Model(const Scenario& scenario);

  int agents() const { return n_; }
  int issues() const { return d_; }
  int months() const { return t_; }
  int events() const { return static_cast<int>(events_.size()); }
  const Parameters& parameters() const { return parameters_; }

  const std::vector<float>& position() const { return position_; }      ///< [N * D]
  const std::vector<float>& salience() const { return salience_; }      ///< [N * D], raw
  const std::vector<float>& capability() const { return capability_; }  ///< [N]
  const std::vector<float>& initial_alignment() const { return initial_; }  ///< [N * N]
  /// [N * N]: 1 where the scenario sets W[i, j] at the start, 0 where it starts at the affinity.
  const std::vector<unsigned char>& initial_set() const { return initial_set_; }
  const std::vector<CompiledEvent>& compiled_events() const { return events_; }  ///< in processing order
  /// Processing position of each scenario event.
  const std::vector<int>& position_of_event() const { return position_of_; }
  /// Eras as month-index spans [from, to], in scenario order.
  const std::vector<std::pair<int, int>>& eras() const { return eras_; }
  /// Processing positions of the events that may fire in month t, ascending.
  const std::vector<int>& candidates(int t) const { return candidates_[t]; }

 private:
  int n_, d_, t_;
  Parameters parameters_;
  std::vector<float> position_, salience_, capability_, initial_;
  std::vector<unsigned char> initial_set_;
  std::vector<CompiledEvent> events_;
  std::vector<int> position_of_;
  std::vector<std::vector<int>> candidates_;
  std::vector<std::pair<int, int>> eras_;
};

}  // namespace alignsim
