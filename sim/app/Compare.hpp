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

struct CompareOptions {
  std::string base, cf;
  std::string csv;  ///< write a CSV file too
  std::string h5;   ///< write group /comparison of a new HDF5 file too
  bool all_events = false;  ///< list events whose probability did not change, too
  bool overwrite = false;   ///< replace existing --csv and --h5 files
};

int compare(const CompareOptions& options);

}  // namespace alignsim::app
