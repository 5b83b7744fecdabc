#pragma once
/// Calibration: fits the free numbers of a scenario (model parameters, the Goldstein shock scale,
/// the intercepts b0 of decision events) to a target set, each evaluation one ensemble with the
/// same seed (common random numbers), with a derivative-free, bounded optimiser from NLopt.
/// The method and its choices are in docs/calibration.md.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "Evaluate.hpp"

namespace alignsim {

/// One free number: a model parameter (a row of parameter_table()), or the intercept b0 of one
/// decision event.
struct FreeVariable {
  enum class Kind { Parameter, Intercept };
  Kind kind = Kind::Parameter;
  std::string name;    ///< the parameter's name, or "b0:EVENT_ID"
  int parameter = -1;  ///< Parameter: index into parameter_table()
  int event = -1;      ///< Intercept: index into Scenario::events
  double lo = 0, hi = 1;
  double start = 0;  ///< the scenario's value (clamped into the bounds)
};

/// The names `free_variables` accepts: every parameter of parameter_table() and "b0" (every
/// decision's intercept).
const std::vector<std::string>& free_variable_groups();

/// The free variables of a scenario for the given groups (default: all), with their bounds: a
/// parameter's fit bounds from parameter_table(), each decision's b0 within +-3 of the scenario's
/// value. Throws std::invalid_argument for an unknown group name.
std::vector<FreeVariable> free_variables(const Scenario& s, const std::vector<std::string>& groups = {});

/// Reads / sets the variables' values in a scenario.
double value_of(const Scenario& s, const FreeVariable& v);
void set_value(Scenario& s, const FreeVariable& v, double x);

/// The value as written to the calibrated file: parameters to 4 significant digits, b0 to 0.001.
double rounded(const FreeVariable& v, double x);

enum class Algorithm { Sbplx, Bobyqa, NelderMead, Cobyla };
const char* algorithm_name(Algorithm a);  ///< the NLopt name, e.g. "LN_SBPLX"
/// "sbplx", "bobyqa", "neldermead", "cobyla"; throws std::invalid_argument otherwise.
Algorithm parse_algorithm(const std::string& name);

struct CalibrationOptions {
  EnsembleSpec ensemble;       ///< runs and seed of every evaluation (the same seed each time)
  int max_evals = 400;         ///< ensembles the optimiser may run (besides the start's)
  Algorithm algorithm = Algorithm::Sbplx;
  double initial_step = 0.1;   ///< the optimiser's first step, as a share of each variable's range
  /// Weight of the pull toward the starting values: the objective is the targets' loss plus
  /// prior_weight * sum_k ((x_k - start_k) / (hi_k - lo_k))^2 (docs/calibration.md).
  double prior_weight = 0.1;
  const std::atomic<bool>* stop = nullptr;  ///< when set, the optimiser stops and the best so far is kept
  /// Called after each evaluation with its number (1-based), the evaluation, its objective and the
  /// best objective so far.
  std::function<void(int, const Evaluation&, double, double)> on_evaluation;
};

struct CalibrationResult {
  std::vector<FreeVariable> variables;
  std::vector<double> best;        ///< the best point found, unrounded
  Evaluation start;                ///< the scenario as given
  Evaluation best_evaluation;      ///< at `best`
  double start_objective = 0;      ///< the objective at the start (its loss: no distance yet)
  double best_objective = 0;       ///< the objective at `best`
  std::vector<double> loss_trace;       ///< the targets' loss of every evaluation, in order
  std::vector<double> objective_trace;  ///< loss + prior term of every evaluation, in order
  int evaluations = 0;
  std::string stop_reason;         ///< NLopt's result, e.g. "MAXEVAL_REACHED"
  bool interrupted = false;
  double seconds = 0;
};

/// The prior term of the objective at x: prior_weight * sum_k ((x_k - start_k) / (hi_k - lo_k))^2.
double prior_penalty(const std::vector<FreeVariable>& variables, const std::vector<double>& x, double prior_weight);

/// Minimises the objective (the loss of `targets` plus the prior term) over `variables`, starting
/// from the scenario's values.
/// Deterministic: the same scenario, targets and options give the same result.
CalibrationResult calibrate(const Scenario& scenario, const TargetSet& targets, std::vector<FreeVariable> variables,
                            const CalibrationOptions& options);

/// The calibrated overlay: a scenario file that `extends` the base (path relative to the overlay's
/// folder) and overrides the calibrated parameters and decision intercepts (values rounded).
/// `header` is written as comment lines at the top.
std::string overlay_toml(const Scenario& base, const std::vector<FreeVariable>& variables,
                         const std::vector<double>& values, const std::string& extends, const std::string& header);

}  // namespace alignsim
