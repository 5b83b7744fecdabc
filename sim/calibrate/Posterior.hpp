#pragma once
/// A posterior: K weighted parameter sets, as `alignsim calibrate --posterior` writes them and
/// `alignsim ensemble --posterior` reads them. The file is CSV with `#` comment lines at the head
/// (docs/calibration.md, "The posterior file"): columns `draw`, `weight`, `loss`, then one per free
/// number (a parameter's name, or `b0:EVENT` for a decision's intercept).
///
/// PosteriorPlan gives run r of an ensemble the parameter set of one draw, chosen with probability
/// its weight by an addressed random number of (seed, r): a baseline and its counterfactual run
/// with the same seed share run r's draw as they share its other random numbers.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/Batch.hpp"
#include "model/Model.hpp"

namespace alignsim {

struct Posterior {
  std::vector<std::string> names;           ///< the free numbers
  std::vector<std::vector<double>> values;  ///< [draw][name]
  std::vector<double> weights;              ///< [draw], >= 0, summing to 1 (as read: scaled to sum 1)
  std::vector<double> losses;               ///< [draw]: the loss at which each set was accepted
  std::vector<std::string> comments;        ///< the head's comment lines, without "# "
};

/// The posterior as CSV: the comment lines, the header, one row per draw (numbers to 17 significant
/// digits, so that they read back exactly).
std::string posterior_csv(const Posterior& posterior);

/// Reads a posterior from CSV text strictly; throws ScenarioError naming the line and column of
/// every problem (a missing or unknown column, a number that is not one, a negative weight, ...).
Posterior load_posterior_text(const std::string& text, const std::string& name);
/// The same from a file; the error names the file.
Posterior load_posterior(const std::filesystem::path& path);

/// Which draw run `run` of an ensemble with this seed takes, for cumulative weights `cumulative`
/// (a uniform in [0, 1) from Philox at (run, seed) with the tag kTagPosteriorDraw, by inverse CDF).
int posterior_draw(std::uint64_t seed, std::uint64_t run, const std::vector<double>& cumulative);

/// Each run's parameter vector: the model's theta with every entry the posterior names replaced
/// by the value of the run's draw. Names are matched to Model::theta_names(): a number the posterior
/// lacks keeps the scenario's value (kept()), and a number the scenario lacks is not used (unused()).
class PosteriorPlan final : public ParameterPlan {
 public:
  PosteriorPlan(const Posterior& posterior, const Model& model, std::uint64_t seed);
  void parameters(std::uint64_t run, double* out) const override;
  /// The draw of run `run`.
  int draw(std::uint64_t run) const { return posterior_draw(seed_, run, cumulative_); }
  /// Entries of the model's theta the posterior does not give (they keep the scenario's values).
  const std::vector<std::string>& kept() const { return kept_; }
  /// Free numbers of the posterior the scenario does not have (a counterfactual removed the decision).
  const std::vector<std::string>& unused() const { return unused_; }

 private:
  std::vector<double> theta_;
  std::vector<std::vector<double>> sets_;  ///< [draw][theta index]: complete vectors
  std::vector<double> cumulative_;
  std::uint64_t seed_;
  std::vector<std::string> kept_, unused_;
};

}  // namespace alignsim
