#pragma once
/// `alignsim run|ensemble --posterior FILE`: each run takes the parameter set of one draw of a
/// posterior (docs/calibration.md, "Posterior ensembles"), recorded in the output as `run_draw`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "calibrate/Posterior.hpp"
#include "io/OutputWriter.hpp"

namespace alignsim::app {

struct PosteriorEnsemble {
  Posterior posterior;
  std::unique_ptr<PosteriorPlan> plan;
  PosteriorRunInfo info;  ///< what the output file records
};

/// Reads the posterior file and matches its free numbers to the model's parameter vector by name;
/// says on stderr which of the scenario's numbers keep their own values and which of the
/// posterior's are not used (unless `quiet`). nullopt, with every error printed when `report`, for
/// a file that is not a posterior.
std::optional<PosteriorEnsemble> posterior_ensemble(const std::string& path, const Model& model, std::uint64_t seed,
                                                    bool quiet, bool report = true);

}  // namespace alignsim::app
