#pragma once
/// `alignsim compare` on posterior ensembles: runs grouped by the posterior draw they took, each
/// draw's mean paired difference, and how those means spread across draws (the uncertainty the
/// parameters carry, beside the Monte Carlo interval of the mean over all runs).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/EnsembleReader.hpp"
#include "io/RunDraws.hpp"

namespace alignsim::app {

class DrawAccumulator {
 public:
  /// Opens both files' run draws. Returns nullptr when neither is a posterior ensemble; throws
  /// std::runtime_error when only one is, when they come from different posterior files, or (in
  /// read_block) when a run took different draws in the two (different seeds or posteriors).
  static std::unique_ptr<DrawAccumulator> open(const std::string& base, const std::string& cf, std::size_t rows);

  /// Reads the draws of runs first .. first + count - 1 of both files.
  void read_block(std::uint64_t first, std::uint64_t count);
  /// Adds the paired difference of row `row` for run `r` of the block read last.
  void add(std::uint64_t r, std::size_t row, double difference) {
    const std::size_t at = static_cast<std::size_t>(draw_[r]) * rows_ + row;
    sum_[at] += difference;
    squares_[at] += difference * difference;
  }
  /// Counts run `r` of the block read last (once per run).
  void count(std::uint64_t r) { ++runs_[static_cast<std::size_t>(draw_[r])]; }

  /// The spread of every row across draws; rows [0, era rows) are the era dyads, the rest the events.
  /// Fills table.draws, runs_per_draw_median, posterior_sha256, era_dyad_draws and event_probability_draws.
  void finish(ComparisonTable& table, std::size_t era_rows) const;

 private:
  DrawAccumulator(std::unique_ptr<RunDrawReader> base, std::unique_ptr<RunDrawReader> cf, std::size_t rows);
  std::unique_ptr<RunDrawReader> base_, cf_;
  std::size_t rows_, draws_;
  std::vector<std::int32_t> draw_, other_;
  std::vector<double> sum_, squares_;  ///< [draw][row]
  std::vector<std::uint64_t> runs_;     ///< [draw]
};

/// How a printed event table (four decimals) without --all-events treats an event's row, from its
/// numbers (the change, its paired interval, and over a posterior the spread across draws):
/// Unchanged when all are 0; Shown when one is at least 0.00005 from 0; Left out otherwise, a change
/// in a handful of runs that every column would print as 0.0000. The CSV and HDF5 outputs have every
/// event.
enum class EventRow { Unchanged, LeftOut, Shown };
EventRow event_row(const Difference& d, const DrawSpread* spread = nullptr);

/// Under a printed event table: how many events changed but were left out as printing 0.0000 (by
/// event_row), or nothing when none were.
void print_events_left_out(std::size_t count);

/// Prints the posterior section of `alignsim compare`: every era, dyad and event with the Monte Carlo
/// interval and the spread across draws side by side, explained in words.
void print_draw_spread(const ComparisonTable& table, bool all_events);

/// The CSV columns the posterior adds to a row (empty fields for a comparison of fixed parameters).
std::string draw_spread_csv(const ComparisonTable& table, bool event, std::size_t index);

}  // namespace alignsim::app
