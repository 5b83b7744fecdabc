#pragma once
/// Reads what comparisons need from an ensemble output file, in blocks of runs so that memory does
/// not grow with the number of runs. Errors (a missing, damaged, foreign or malformed file) are
/// OutputError naming the file; the shapes of what is read are checked when the file is opened.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/Summary.hpp"

namespace alignsim {

struct EnsembleHeader {
  std::string path;
  std::string title;
  std::string status;  ///< "complete" or "partial"
  std::uint64_t seed = 0;
  std::uint64_t runs = 0;
  std::uint64_t stored_runs = 0;
  int histogram_bins = 0;
  std::string scenario_sha256;
  std::string scenario;  ///< the resolved scenario as TOML text
  std::string software_version, git_commit;
  std::vector<std::string> agents, events, eras;
  std::vector<int> ccodes;                      ///< per agent, Correlates of War code; 0: none (or an older file)
  std::vector<std::string> months;              ///< "YYYY-MM" of each time step
  std::vector<double> quantiles;                ///< levels of alignment_quantile
  std::vector<std::string> event_titles, event_dates, event_kinds;
  std::vector<std::string> era_from, era_to;    ///< "YYYY-MM", inclusive
};

class EnsembleReader {
 public:
  explicit EnsembleReader(const std::filesystem::path& path);
  ~EnsembleReader();
  EnsembleReader(const EnsembleReader&) = delete;
  EnsembleReader& operator=(const EnsembleReader&) = delete;

  const EnsembleHeader& header() const;
  /// Runs to read at a time so that one read's data takes at most `bytes` (at most 65536 runs).
  std::uint64_t runs_per_read(std::size_t bytes = std::size_t{256} << 20) const;
  /// Runs first .. first + count - 1 (within the file's runs): event months [run][event] and era
  /// means [run][era][agent][other].
  void read(std::uint64_t first, std::uint64_t count, std::vector<std::int16_t>& event_month,
            std::vector<float>& era_alignment) const;
  /// The summaries over all runs ([time][agent][other]; quantiles [quantile][time][agent][other]).
  Summary summary() const;
  /// The share of runs in which each event happened.
  std::vector<float> event_probability() const;
  /// Stored runs (samples) first .. first + count - 1: W as [sample][time][agent][other].
  void read_stored(std::uint64_t first, std::uint64_t count, std::vector<float>& alignment) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {
/// Why HDF5 could not open `path` (call right after it failed): truncated, damaged or not HDF5.
std::string unreadable_reason(const std::filesystem::path& path);
/// Why a file HDF5 opened has unreadable metadata: never closed (a killed writer's file).
std::string never_closed_reason(const std::filesystem::path& path);
}  // namespace detail

/// One row of a comparison: an estimate of CF - BASE with paired and unpaired intervals.
struct Difference {
  double base = 0, cf = 0, difference = 0;
  double low = 0, high = 0;                    ///< paired interval
  double unpaired_low = 0, unpaired_high = 0;  ///< as if the runs were independent
};

/// The spread of a paired difference across the posterior draws of two posterior ensembles: each
/// draw's mean difference over its runs, and how those means spread, weighted by the draws' runs.
struct DrawSpread {
  double low = 0, high = 0;  ///< the 5% and 95% quantiles of the per-draw mean differences
  double p_positive = 0;     ///< the share of draws whose mean difference is above 0
  double p_negative = 0;     ///< ... below 0
  bool robust = false;       ///< p_positive or p_negative is at least 0.9: the sign holds in 90% of draws
  /// The share of the variance of the per-draw means that is Monte Carlo noise (each draw's own runs'
  /// variance over their number); the rest is what the parameters change.
  double noise_share = 0;
};

struct ComparisonTable {
  std::string base_path, cf_path;
  std::uint64_t runs = 0, seed = 0;
  double level = 0.95;
  std::vector<std::string> agents, eras, events;
  std::vector<Difference> era_dyads;  ///< [era][agent][other]; symmetric, NaN-free off the diagonal
  std::vector<Difference> event_probability;  ///< [event]: difference in the probability that it happened
  /// [event]: how the counterfactual treats it. Same: the same definition in both scenarios (a change
  /// in its probability is a response to what changed earlier); Changed: defined differently, or an
  /// option of a choice the counterfactual forces or excludes; Only: in one scenario only.
  enum class Role { Same, Changed, Only };
  std::vector<Role> event_role;
  std::vector<std::string> event_date;      ///< [event]: "YYYY-MM", the base's (or the counterfactual's)
  std::vector<unsigned char> event_decision;  ///< [event]: 1 for a decision or an option
  /// Posterior ensembles (both files have `run_draw`, from the same posterior file): the draws among
  /// the runs (0 otherwise), the posterior file's hash, and the spread across draws of every row.
  std::uint64_t draws = 0;
  std::uint64_t runs_per_draw_median = 0;
  std::string posterior_sha256;
  std::vector<DrawSpread> era_dyad_draws;           ///< [era][agent][other], as era_dyads
  std::vector<DrawSpread> event_probability_draws;  ///< [event], as event_probability
  /// Each draw among the runs (ascending), its runs, and its own mean difference of every row:
  /// [draw][era][agent][other] and [draw][event]; the distributions the spread summarises.
  std::vector<std::int32_t> draw_ids;
  std::vector<std::uint64_t> draw_runs;
  std::vector<double> era_dyad_draw_means, event_draw_means;

  /// The path of the effect. For each event of `path_events` (index into `events`): the share of
  /// runs in which it went differently in the two worlds (happened in one only), and each era dyad's
  /// mean difference split into the part from the runs where it flipped and the part from the runs
  /// where it went the same way: through_flip + through_same = era_dyads[].difference. Filled for
  /// the decisions the counterfactual did not change (Role::Same) that flipped in some run.
  std::vector<std::size_t> path_events;
  std::vector<double> path_flip_share;   ///< [path event]
  std::vector<double> path_through_flip; ///< [path event][era][agent][other], each run's difference / runs
};

/// Writes the comparison as group /comparison of an HDF5 file at `path`, truncating it: the
/// temporary file of an OutputPath, which the caller commits. Errors name `shown` (default: path).
void write_comparison_h5(const std::filesystem::path& path, const ComparisonTable& table, const std::string& shown = "");

}  // namespace alignsim
