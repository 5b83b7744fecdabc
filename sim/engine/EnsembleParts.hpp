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
  /// Adds every part's summary, event counts, runs done and `counts` (per-run tallies of the
  /// caller's own, summed over runs) and gives each part the totals. Every part must call it.
  virtual void combine(EnsembleResult& result, std::vector<std::uint64_t>& counts) = 0;
  /// Whether any part's flag is set (such as a stop asked for by a signal to one process), so that
  /// every part takes the same turn. Every part must call it.
  virtual bool any(bool flag) = 0;
};

}  // namespace alignsim
