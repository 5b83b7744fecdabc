#pragma once
/// What a posterior calibration reports: the generations (tolerance, acceptance, effective sample
/// size), the marginals of the free numbers against their priors, and the posterior predictive
/// check of every target and decision (docs/calibration.md, "The posterior").

#include <cstdint>
#include <string>
#include <vector>

#include "Abc.hpp"
#include "Posterior.hpp"

namespace alignsim {

/// One target or decision under the posterior: its statistic over the population, each particle
/// simulated again with a fresh seed (the noise that let it be accepted is not reused).
struct PredictiveStat {
  double q05 = 0, q50 = 0, q95 = 0;  ///< weighted quantiles of the statistic over the particles
  double p_met = 0;                  ///< the posterior probability that the target is met
  bool covered = false;              ///< the 90% predictive interval [q05, q95] meets the target's band
  bool held_out = false;
};

struct PredictiveCheck {
  std::uint64_t runs = 0;
  std::vector<PredictiveStat> targets, decisions;  ///< in the order of the TargetSet
  int fitted = 0, fitted_covered = 0;
  int held_out = 0, held_out_covered = 0;
  double fitted_p_met = 0, held_out_p_met = 0;  ///< mean over the fitted (held-out) targets and decisions
  double seconds = 0;
};

/// Simulates every particle of `result` again (runs each, a seed of its own derived from `seed`)
/// and summarises each statistic over the population.
PredictiveCheck predictive_check(const Scenario& scenario, const TargetSet& targets, const AbcResult& result,
                                 std::uint64_t runs, std::uint64_t seed, int threads, bool parallel_particles,
                                 EnsembleParts* parts = nullptr);

/// The population as a posterior (free numbers, weights, losses) with the given comment lines.
Posterior to_posterior(const AbcResult& result, std::vector<std::string> comments);

/// One free number's marginal: weighted mean, sd and quantiles, and its prior's 5-95% range.
struct Marginal {
  double mean = 0, sd = 0, q05 = 0, q50 = 0, q95 = 0;
  double prior_q05 = 0, prior_q95 = 0;
};
std::vector<Marginal> marginals(const AbcResult& result);

struct PosteriorReportInfo {
  std::string scenario_path, targets_path, posterior_path;  ///< posterior_path: empty when none was written
  std::string command_line;
  std::string software;
  AbcOptions options;
};

std::string posterior_report_markdown(const Scenario& s, const TargetSet& targets, const AbcResult& result,
                                      const PredictiveCheck& check, const PosteriorReportInfo& info);
std::string posterior_report_json(const Scenario& s, const TargetSet& targets, const AbcResult& result,
                                  const PredictiveCheck& check, const PosteriorReportInfo& info);

}  // namespace alignsim
