#pragma once
/// `alignsim compare BASE.h5 CF.h5`: a counterfactual against its baseline, run by run. Both files
/// must come from the same seed and run count, so run r of each shares its random numbers except
/// those of the events the counterfactual changed; the paired differences then have far narrower
/// intervals than independent ensembles would give.

#include <string>

#include "io/EnsembleReader.hpp"

namespace alignsim::app {

/// Computes the comparison; throws std::runtime_error saying why two files cannot be compared.
ComparisonTable compare_files(const std::string& base, const std::string& cf);

/// Why the scenario the counterfactual file's overlay extends is not the scenario of the baseline
/// file, or "" when it is, or when the counterfactual records no base (it extends nothing).
std::string base_mismatch(const EnsembleHeader& base, const EnsembleHeader& cf);

struct CompareOptions {
  std::string base, cf;
  std::string csv;  ///< write a CSV file too
  std::string h5;   ///< write group /comparison of a new HDF5 file too
  bool all_events = false;  ///< list events whose probability did not change, too
  bool overwrite = false;   ///< replace existing --csv and --h5 files
  bool allow_different_base = false;  ///< warn, not refuse, when the counterfactual extends another scenario
};

int compare(const CompareOptions& options);

}  // namespace alignsim::app
