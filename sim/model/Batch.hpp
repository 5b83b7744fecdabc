#pragma once
/// The batch kernel: kLanes runs of one scenario advanced month by month together, in
/// structure-of-arrays form. One run's result depends only on (scenario, seed, run index).

#include <cstdint>
#include <vector>

#include "Model.hpp"

namespace alignsim {

template <class T>
struct alignas(64) Lanes {
  T v[kLanes];
  T& operator[](int l) { return v[l]; }
  const T& operator[](int l) const { return v[l]; }
};
using LaneF = Lanes<float>;

/// The state of a batch of runs. Arrays are indexed [cell][lane].
struct BatchState {
  explicit BatchState(const Model& model);

  std::uint64_t first_run = 0;  ///< run index of lane 0
  int valid = 0;                ///< lanes that are real runs (the rest are padding)
  std::vector<LaneF> W;         ///< alignment W[i * N + j]; the diagonal stays 0
  std::vector<LaneF> A;         ///< interest affinity
  std::vector<LaneF> position, salience;  ///< [i * D + d]
  std::vector<LaneF> anchor;              ///< [i * D + d]: where each position is held
  std::vector<LaneF> capability;          ///< [i]
  std::vector<LaneF> theta;               ///< [parameter]: each lane's parameter vector (Model::theta layout)
  std::vector<Lanes<std::int16_t>> fired;  ///< month each event fired (processing order), -1 if not

  // Scratch owned by the kernel.
  std::vector<LaneF> next, shock, inv_third, inv_others, noise, drift;
  std::vector<LaneF> scratch;  ///< [2 * agents]
  std::vector<Lanes<std::int16_t>> scheduled;
  std::vector<Lanes<std::int16_t>> pick;  ///< [choice]: processing position of the option picked this month, or -1
  Lanes<std::uint32_t> key{};
};

/// Gives each run its own parameter vector (e.g. a draw from a posterior). Without one, every run
/// uses Model::theta().
class ParameterPlan {
 public:
  virtual ~ParameterPlan() = default;
  /// Writes run `run`'s parameter vector (Model::theta() layout) to out[0 .. size).
  virtual void parameters(std::uint64_t run, double* out) const = 0;
};

/// Receives the state after each month's step.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void on_month(int t, const BatchState& state) = 0;
};

namespace detail {
/// A decision's hazard in month units, h = 1 - (1 - logistic(eta))^inv_months, in kLanes lanes at
/// once with glibc's vector math (libmvec); within a few ulp of decision_hazard().
void decision_hazards(const float* eta, float inv_months, float* hazard);
/// The same for one logit with libm's scalar functions: the value that decides an outcome.
float decision_hazard(float eta, float inv_months);
/// An upper bound of decision_hazard(eta, inv_months), without exp or log: a draw above it cannot fire.
float decision_hazard_bound(float eta, float inv_months);
/// Which of kLanes draws u fire: fire[l] (on entry, whether lane l may fire) becomes
/// fire[l] && u[l] < decision_hazard(eta[l], inv_months), read from `fast` (the vector hazard)
/// unless u[l] lies within a small margin of it.
void decisions_fire(const float* u, const float* fast, const float* eta, float inv_months, int* fire);
}  // namespace detail

/// Simulates runs first_run .. first_run + kLanes - 1 (of which `valid` are kept by observers)
/// over the whole horizon, calling observer.on_month after every month.
/// Requires first_run + kLanes <= 2^32 (the run index is one 32-bit key word).
void simulate_batch(const Model& model, std::uint64_t seed, std::uint64_t first_run, int valid, BatchState& state,
                    BatchObserver& observer, const ParameterPlan* plan = nullptr);

}  // namespace alignsim
