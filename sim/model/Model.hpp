#pragma once
/// The scenario compiled for the batch kernel: dense float arrays, indices instead of ids, events
/// in the order they are processed within a month, and for each month the events that may fire.
/// Every number that calibration or a posterior may vary lives in one per-run parameter vector
/// (theta), so that the kernel can give each of its lanes its own values.

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/Scenario.hpp"
#include "scenario/Streams.hpp"

namespace alignsim {

/// Runs advanced together by the kernel. Every run goes through the same fixed-width loops, so a
/// run's result does not depend on which batch, thread or process computed it.
inline constexpr int kLanes = 16;

/// Positions in the parameter vector theta: the rows of parameter_table() first, in its order,
/// then the intercept b0 of every decision and option, in scenario order.
namespace theta {
inline constexpr int kKA = 0, kKR = 1, kKB = 2, kSigma = 3, kShockScale = 4, kKP = 5, kK0 = 6, kResponse = 7;
}  // namespace theta

struct CompiledShock {
  int ij{};       ///< flat index i * N + j
  int ji = -1;    ///< j * N + i when both ways, else -1
  float base{};   ///< the Goldstein weight when `scaled` (times shock_scale), else the mean itself
  bool scaled = false;
  float sd{};
};

struct CompiledShift {
  int cell{};  ///< agent * D + issue
  bool set_position = false, add_position = false, set_salience = false, add_salience = false;
  bool durable = true;  ///< the anchor moves with the position
  float position{}, salience{};
};

struct CompiledCapability {
  int agent{};
  bool multiply = false;
  float value{};
};

/// eta = theta[b0] + theta[response] * (the terms), read from the state at the start of a month.
struct CompiledLogit {
  int b0 = -1;        ///< index into theta
  int response = -1;  ///< index into theta
  std::vector<int> dyad_ab, dyad_ba;  ///< flat indices of each dyad, both directions
  std::vector<float> dyad_coef;
  std::vector<int> interest_cell;  ///< agent * D + issue
  std::vector<float> interest_coef;
  std::vector<int> after;  ///< processing positions of the events in the logit
  std::vector<float> after_coef;
  std::vector<int> power_a, power_b;  ///< agents
  std::vector<float> power_coef;
};

struct CompiledEvent {
  enum class Type { Scheduled, Decision, Option };
  int scenario_index{};        ///< position in Scenario::events (and in output files)
  std::uint32_t stream{};      ///< Philox stream, from the id
  Type type = Type::Scheduled;
  int date{};                  ///< month index of the scheduled date
  int jitter{};
  float probability = 1.0f;
  bool random_occurrence = false;  ///< probability < 1 or jitter > 0
  int window_from{}, window_to{};  ///< decision (or its choice's) window, month indices
  CompiledLogit logit;             ///< decisions and options
  int choice = -1;                 ///< options: index into Model::choices()
  std::vector<int> required, excluded;  ///< processing positions
  std::vector<CompiledShock> shocks;
  std::vector<CompiledShift> shifts;
  std::vector<CompiledCapability> capabilities;

  bool decision() const { return type != Type::Scheduled; }
};

struct CompiledChoice {
  int scenario_index{};  ///< position in Scenario::choices
  std::uint32_t stream{};
  int window_from{}, window_to{};
  std::vector<int> options;  ///< processing positions of the options that may be chosen (exclusions removed)
  int forced = -1;           ///< processing position of the forced option, or -1
  int forced_month = -1;     ///< month index of the forced option's date
  int first{};               ///< processing position of its first option: where the choice is made
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
  const std::vector<CompiledChoice>& choices() const { return choices_; }
  /// Processing position of each scenario event.
  const std::vector<int>& position_of_event() const { return position_of_; }
  /// Eras as month-index spans [from, to], in scenario order.
  const std::vector<std::pair<int, int>>& eras() const { return eras_; }
  /// Processing positions of the events that may fire in month t, ascending.
  const std::vector<int>& candidates(int t) const { return candidates_[t]; }

  /// The scenario's parameter vector: parameter_table() values, then every decision's intercept.
  const std::vector<double>& theta() const { return theta_; }
  /// The name of each entry of theta: the parameter's name, or "b0:EVENT_ID".
  const std::vector<std::string>& theta_names() const { return theta_names_; }

 private:
  int n_, d_, t_;
  Parameters parameters_;
  std::vector<float> position_, salience_, capability_, initial_;
  std::vector<unsigned char> initial_set_;
  std::vector<CompiledEvent> events_;
  std::vector<CompiledChoice> choices_;
  std::vector<int> position_of_;
  std::vector<std::vector<int>> candidates_;
  std::vector<std::pair<int, int>> eras_;
  std::vector<double> theta_;
  std::vector<std::string> theta_names_;
};

}  // namespace alignsim
