#pragma once
/// The posterior calibration: approximate Bayesian computation by sequential Monte Carlo (ABC-SMC).
/// A population of K particles (parameter sets) moves through a decreasing schedule of tolerances
/// on the targets' loss, each particle scored by an ensemble of its own. Two ways to move it:
///  - Mcmc (the default): Drovandi and Pettitt (2011, Biometrics 67:225). Each generation's
///    tolerance keeps the better part of the population; the rest is replaced by copies of the
///    kept particles, each moved by Metropolis-Hastings steps (a Gaussian random walk scaled to the
///    kept particles' covariance, accepted when the prior ratio allows and the loss is within the
///    tolerance) until it has most likely moved. Weights stay equal.
///  - Pmc: Beaumont, Cornuet, Marin and Robert (2009, Biometrika 96:983). Each generation proposes
///    from the previous population perturbed by a Gaussian kernel of twice its weighted covariance
///    and weights the accepted by prior / kernel mixture. Its weights degenerate when there are
///    more than a handful of free numbers (docs/calibration.md measures it on the baseline).
/// The method and its choices are in docs/calibration.md ("The posterior").
///
/// Reproducible: every random number is addressed by (seed, generation, proposal), every proposal's
/// ensemble has its own seed, and proposals are accepted in index order, so the result does not
/// depend on the thread count or on how proposals are batched.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "Evaluate.hpp"
#include "Priors.hpp"

namespace alignsim {

struct AbcOptions {
  enum class Method { Mcmc, Pmc };
  Method method = Method::Mcmc;
  int particles = 200;          ///< K, the population size
  std::uint64_t runs = 256;     ///< runs of each proposal's ensemble
  std::uint64_t seed = 1;
  int threads = 0;              ///< 0: all cores
  int generations = 12;         ///< at most this many populations (the first from the prior)
  double quantile = 0.5;        ///< each tolerance is this weighted quantile of the previous population's losses
  /// Mcmc: stop after a generation whose moves are accepted less often than this. Pmc: a generation
  /// that needs more than particles / min_acceptance proposals is abandoned, and the previous
  /// population is the result.
  double min_acceptance = 0.02;
  /// Mcmc: each copy takes enough steps to have moved with probability 1 - move_failure, judged by
  /// the acceptance of the generation's first step, and at most max_steps.
  double move_failure = 0.01;
  int max_steps = 60;
  double tolerance = 0.0;       ///< stop once the tolerance is at or below this loss
  int batch = 32;               ///< proposals simulated together (the result does not depend on it)
  /// Simulate the proposals of a batch in parallel, each ensemble on one thread; otherwise one after
  /// the other, each ensemble on every thread. The result is the same.
  bool parallel_particles = true;
  const std::atomic<bool>* stop = nullptr;  ///< when set, the current generation is abandoned
  /// When set (MPI), every process runs abc_smc with the same options, each ensemble's runs are
  /// split among the processes, and a stop asked of any process stops them all at the same point.
  /// The result is the same as one process's.
  EnsembleParts* parts = nullptr;
};

/// What one generation did.
struct AbcGeneration {
  int index = 0;
  double tolerance = 0;             ///< +inf for the first (every prior draw is kept)
  /// Pmc: proposals up to the K-th accepted; Mcmc: the Metropolis-Hastings steps proposed. Those
  /// outside the prior's support included.
  std::uint64_t proposals = 0;
  std::uint64_t outside_prior = 0;  ///< of them, perturbed out of the prior's support (not simulated)
  std::uint64_t simulated = 0;      ///< ensembles run (Pmc: with the rest of the last batch)
  double acceptance = 0;            ///< Pmc: K / proposals; Mcmc: accepted steps / proposals
  int steps = 0;                    ///< Mcmc: the steps each copy took
  int replaced = 0;                 ///< Mcmc: particles dropped and replaced by moved copies
  double ess = 0;                   ///< effective sample size of the weights, (sum w)^2 / sum w^2
  int distinct = 0;                 ///< distinct parameter sets in the population
  double loss_min = 0, loss_median = 0, loss_max = 0;  ///< of the accepted particles
  double seconds = 0;
};

struct AbcResult {
  std::vector<Prior> priors;                ///< the free numbers, in order
  std::vector<std::vector<double>> values;  ///< [particle][free number], on the numbers' own scale
  std::vector<double> weights;              ///< normalised to sum 1
  std::vector<double> losses;               ///< each particle's loss when it was accepted
  std::vector<Evaluation> evaluations;      ///< each particle's evaluation when it was accepted
  std::vector<AbcGeneration> generations;   ///< the populations made, the result being the last
  std::string stop_reason;
  bool interrupted = false;
  std::uint64_t simulations = 0;            ///< ensembles run in all
  double seconds = 0;
  double cpu_seconds = 0;                   ///< processor time of the whole process (all threads)
};

/// Called after each generation with the result so far (the population of that generation).
using AbcProgress = std::function<void(const AbcGeneration&, const AbcResult&)>;

/// Runs ABC-SMC over the free numbers of `priors` (others keep the scenario's values). Throws
/// std::invalid_argument for options out of range or no free numbers.
AbcResult abc_smc(const Scenario& scenario, const TargetSet& targets, const std::vector<Prior>& priors,
                  const AbcOptions& options, const AbcProgress& progress = {});

/// The scenario with the free numbers of `priors` set to `values`.
Scenario with_values(const Scenario& scenario, const std::vector<Prior>& priors, const std::vector<double>& values);

/// Evaluates each parameter set with its own seed (runs of each, as in AbcOptions), in parallel or
/// not, or each split among `parts`; the result does not depend on the threads or processes.
std::vector<Evaluation> evaluate_sets(const Scenario& scenario, const TargetSet& targets,
                                      const std::vector<Prior>& priors, const std::vector<std::vector<double>>& sets,
                                      const std::vector<std::uint64_t>& seeds, std::uint64_t runs, int threads,
                                      bool parallel_particles, EnsembleParts* parts = nullptr);

/// The seed of the ensemble of proposal `index` in generation `generation` and step `step` (Mcmc;
/// 0 otherwise). A purpose p > 0 gives other, independent seeds: the predictive check uses 1.
std::uint64_t proposal_seed(std::uint64_t seed, int generation, std::uint64_t index, int purpose = 0, int step = 0);

/// "mcmc" or "pmc"; throws std::invalid_argument otherwise.
AbcOptions::Method parse_abc_method(const std::string& name);
const char* abc_method_name(AbcOptions::Method method);

/// Effective sample size of weights: (sum w)^2 / sum w^2.
double effective_sample_size(const std::vector<double>& weights);

/// The weighted q-quantile of values: the smallest value whose cumulative weight reaches q of the total.
double weighted_quantile(std::vector<double> values, std::vector<double> weights, double q);

}  // namespace alignsim
