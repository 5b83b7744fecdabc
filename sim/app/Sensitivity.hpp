#pragma once
/// `alignsim sensitivity`: Morris elementary effects (Morris 1991, with Campolongo et al.'s mu*) or
/// Sobol indices (first-order and total, Saltelli et al. 2010's estimators, with bootstrap intervals)
/// of the model parameters on chosen outputs, over the parameters' ranges (the prior) or over a
/// posterior's marginals. Each point of the design is one ensemble with the same seed (common random
/// numbers), run on all cores; the design itself is drawn from the seed.

#include <cstdint>
#include <string>
#include <vector>

namespace alignsim::app {

struct SensitivityOptions {
  std::string scenario;
  std::vector<std::string> outputs;     ///< "probability:EVENT" or "mean:A-B:YYYY-MM:YYYY-MM"
  std::vector<std::string> parameters;  ///< "name=lo:hi"; default: every parameter over its default range
  std::uint64_t runs = 256;
  std::uint64_t seed = 1;
  int trajectories = 10;
  int levels = 4;
  int threads = 0;
  std::string method = "morris";  ///< "morris" or "sobol"
  int samples = 64;               ///< Sobol: N, the rows of each of the matrices A and B (N (k + 2) ensembles)
  std::string posterior;          ///< Sobol: draw each parameter from this posterior's marginal; empty: uniform on its range
  std::string csv;
  bool overwrite = false;  ///< replace an existing --csv file
};

int sensitivity(const SensitivityOptions& options);

}  // namespace alignsim::app
