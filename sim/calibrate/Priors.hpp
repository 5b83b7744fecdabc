#pragma once
/// Priors on the free numbers of a scenario, for the posterior calibration (docs/calibration.md,
/// "The posterior"). Each prior lives on an interpretable scale: a rate or scale uniform on a range,
/// a response multiplier log-normal around 1, a decision's intercept normal on the window log-odds
/// scale around the value the scenario gives it. They are stated in the `[priors]` table of a
/// targets file; every free number without an entry takes the default of its kind.

#include <filesystem>
#include <string>
#include <vector>

#include "Calibrate.hpp"

namespace alignsim {

/// One free number's prior. The sampler works on an internal scale z: z = ln x for a log-normal
/// prior, z = x otherwise, so that a log-normal prior is a normal one in z.
struct Prior {
  enum class Shape { Uniform, Normal, LogNormal };
  FreeVariable variable;  ///< which number (its name, kind and index); lo and hi are the support
  Shape shape = Shape::Uniform;
  double a = 0, b = 1;  ///< uniform: low, high; normal: mean, sd; log-normal: median, sd of ln x
  bool from_file = false;  ///< stated in the file (not a default)

  double to_internal(double x) const;
  double from_internal(double z) const;
  /// ln of the prior density of z up to a constant (the internal scale); -inf outside the support.
  double log_density(double z) const;
  bool in_support(double x) const { return x >= variable.lo && x <= variable.hi; }
  /// "uniform on [0.01, 0.15]", "normal, mean -1, sd 1", "log-normal, median 1, sd of ln 0.693".
  std::string describe() const;
};

/// The default prior's spread for decision intercepts, on the window log-odds scale.
inline constexpr double kDefaultInterceptSd = 1.0;
/// The default sd of ln(response multiplier): ln(4) / 2, so the calibration's bounds [0.25, 4] are
/// two standard deviations either side of 1.
inline constexpr double kDefaultResponseSdLog = 0.6931471805599453;

/// The priors of the free numbers `variables` (as free_variables() gives them) from the `[priors]`
/// table of the targets file at `path` (none: every default). An entry may set a prior, or fix a
/// number at the scenario's value (`distribution = "fixed"`, which drops it from the free numbers).
/// Throws ScenarioError listing every problem with its file, line and column.
std::vector<Prior> load_priors(const std::filesystem::path& path, const Scenario& scenario,
                               const std::vector<FreeVariable>& variables);
/// The same from text; `name` stands for the file in messages.
std::vector<Prior> load_priors_text(const std::string& text, const std::string& name, const Scenario& scenario,
                                    const std::vector<FreeVariable>& variables);

/// The default prior of one free number: uniform on the fit bounds for a rate or scale, log-normal
/// with median 1 and sd of ln kDefaultResponseSdLog for a response multiplier, normal around the
/// scenario's value with sd kDefaultInterceptSd for an intercept; each truncated to the number's
/// valid range.
Prior default_prior(const Scenario& scenario, const FreeVariable& variable);

}  // namespace alignsim
