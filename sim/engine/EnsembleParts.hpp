#pragma once
/// One ensemble computed by several processes (MPI ranks, docs/cluster.md): each simulates its part
/// of the blocks (EnsembleOptions::part, parts), then the parts' exact sums are added up, so every
/// process holds the result one process would have computed alone.

#include <cstdint>
#include <vector>

#include "Ensemble.hpp"

namespace alignsim {

class EnsembleParts {
 public:
  virtual ~EnsembleParts() = default;
  virtual int part() const = 0;   ///< this process's part, 0 .. parts() - 1
  virtual int parts() const = 0;  ///< the number of processes
  /// Adds up every part's summary, event counts, runs done and `counts` (tallies of the caller's
  /// own, summed over runs): `result` and `counts` then hold the totals, but result.summary is
  /// spent; the summary of all parts comes back finished with these quantile levels. Every part
  /// must call it.
  virtual Summary combine(EnsembleResult& result, std::vector<std::uint64_t>& counts,
                          const std::vector<double>& quantiles) = 0;
  /// Whether any part's flag is set (such as a stop asked for by a signal to one process), so that
  /// every part takes the same turn. Every part must call it.
  virtual bool any(bool flag) = 0;
};

}  // namespace alignsim
