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

/// The dyad alignment M of every run of a block, month by month, laid out [t][dyad][run]. Summaries
/// are computed from it row by row, so that each histogram row is visited once per block rather
/// than once per batch of kLanes runs (the histograms do not fit in cache). Each run's sums of M
/// over the eras are kept as M is recorded, so that the era means need no second pass over it.
class DyadBuffer {
 public:
  /// Room for `capacity` runs (rounded up to a multiple of kLanes), and the eras (month-index spans
  /// [from, to] within the months) whose means era_means() gives.
  DyadBuffer(int agents, int months, int capacity, std::vector<std::pair<int, int>> eras = {});

  /// Stores M of the batch's lanes at month t as runs offset .. offset + kLanes - 1, and adds it to
  /// their sums over the eras that hold t (months recorded in order, from each era's first).
  void record(int t, const BatchState& state, int offset);
  const float* row(int t, int dyad) const { return &m_[(static_cast<std::size_t>(t) * dyads_ + dyad) * capacity_]; }
  /// The same row to fill, for callers that build M themselves (e.g. yearly means read from a file).
  float* row(int t, int dyad) { return &m_[(static_cast<std::size_t>(t) * dyads_ + dyad) * capacity_]; }
  int agents() const { return agents_; }
  int dyads() const { return dyads_; }
  int months() const { return months_; }
  /// Flat indices i * N + j and j * N + i of each dyad i < j.
  const std::vector<std::pair<int, int>>& pairs() const { return pairs_; }

  /// Each of the first `count` runs' mean M over each era, into out[run][era][agent][other]
  /// (symmetric, NaN on the diagonal), from the months record() was given.
  void era_means(int count, float* out) const;

 private:
  int agents_, months_, dyads_, capacity_;
  std::vector<std::pair<int, int>> pairs_;
  std::vector<float> m_;
  std::vector<std::pair<int, int>> eras_;
  std::vector<std::vector<int>> eras_at_;  ///< [t]: the eras that hold month t
  std::vector<double> era_sum_;            ///< [era][dyad][run]: sum of M over the era's months so far
};

class SummaryAccumulator {
 public:
  /// `bins` fixed-width histogram bins over [-1, 1] per month and dyad (default width 0.002).
  SummaryAccumulator(int agents, int months, int bins = 1000);

  /// Adds the first `count` runs of a buffer.
  void add(const DyadBuffer& buffer, int count);
  void merge(const SummaryAccumulator& other);
  std::uint64_t runs() const { return runs_; }
  int bins() const { return bins_; }
  int agents() const { return agents_; }
  int months() const { return months_; }

  /// The accumulator as 64-bit words, to send to another process: agents, months, bins and runs;
  /// each sum; each 128-bit sum of squares as two words (low, high); then each histogram row
  /// trimmed to the bins from its first to its last non-zero one: that first bin, the number of
  /// bins, and their counts two to a word (the first in the low half). Runs spread over a fraction
  /// of the bins, so the words are several times fewer than the histograms' counts.
  std::vector<std::uint64_t> to_words() const;
  /// Adds an accumulator sent as words (of the same agents, months and bins), exactly: merging in
  /// any order gives the same bits. Throws std::invalid_argument if the words do not hold one.
  void merge_words(const std::uint64_t* words, std::size_t count);

  Summary finish(const std::vector<double>& quantiles) const;

  /// The exact state: saved with a partial output file so that a resumed ensemble ends with the
  /// same bits as one never interrupted.
  struct State {
    std::uint64_t runs = 0;
    std::vector<std::int64_t> sum;           ///< [t][dyad] sum of round-toward-zero(M * 2^24)
    std::vector<std::uint64_t> sum_squares;  ///< [t][dyad][2]: its sum of squares, low and high 64 bits
    std::vector<std::uint32_t> histogram;    ///< [t][dyad][bin]
  };
  State state() const;
  /// Replaces this accumulator's runs with a saved state; throws std::invalid_argument if the state
  /// is not of this shape (agents, months, bins).
  void restore(const State& state);

 private:
  __extension__ typedef unsigned __int128 u128;
  int agents_, months_, dyads_, bins_;
  std::uint64_t runs_ = 0;
  std::vector<std::int64_t> sum_;   ///< [t][dyad] sum of round-toward-zero(M * 2^24)
  std::vector<u128> sum_squares_;   ///< [t][dyad] sum of its squares
  std::vector<std::uint32_t> hist_;  ///< [t][dyad][bin]
  std::vector<int> pair_ij_, pair_ji_;
  std::vector<std::int32_t> q_, bin_;  ///< scratch
};

}  // namespace alignsim
