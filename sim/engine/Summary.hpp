#pragma once
/// Summaries over runs of the dyad alignment M = (W + W^T) / 2 per month: mean, standard
/// deviation and quantiles. Accumulated exactly in integers (values quantised to 2^-24, fixed-bin
/// histograms over [-1, 1]), so merging partial sums in any order gives the same bits: results do
/// not depend on how runs were split across threads or processes.

#include <cstdint>
#include <vector>

#include "model/Batch.hpp"

namespace alignsim {

/// Finished summaries, [time][agent][other] (and [quantile] first), symmetric, NaN on the diagonal.
struct Summary {
  int months = 0;
  int agents = 0;
  std::uint64_t runs = 0;
  int bins = 0;  ///< histogram bins the quantiles come from
  std::vector<double> quantiles;
  std::vector<float> mean, std, quantile;
};

class SummaryAccumulator {
 public:
  /// `bins` fixed-width histogram bins over [-1, 1] per month and dyad (default width 0.002).
  SummaryAccumulator(int agents, int months, int bins = 1000);

  /// Adds the valid lanes of a batch at month t.
  void add_month(int t, const BatchState& state);
  /// Counts the runs added (call once per batch, after its last month).
  void add_runs(std::uint64_t runs) { runs_ += runs; }
  void merge(const SummaryAccumulator& other);
  std::uint64_t runs() const { return runs_; }
  int bins() const { return bins_; }

  Summary finish(const std::vector<double>& quantiles) const;

 private:
  __extension__ typedef unsigned __int128 u128;
  int agents_, months_, dyads_, bins_;
  std::uint64_t runs_ = 0;
  std::vector<std::int64_t> sum_;   ///< [t][dyad] sum of round-toward-zero(M * 2^24)
  std::vector<u128> sum_squares_;   ///< [t][dyad] sum of its squares
  std::vector<std::uint32_t> hist_;  ///< [t][dyad][bin]
  std::vector<int> pair_ij_, pair_ji_;
};

}  // namespace alignsim
