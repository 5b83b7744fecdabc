#pragma once
/// Calibration targets: statements of the source essay turned into checks on the ensemble, read
/// strictly from a TOML file (format: the head of scenarios/baseline/targets.toml and
/// docs/calibration.md). Errors are ScenarioErrors, each with file, line and column.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "scenario/Scenario.hpp"

namespace alignsim {

enum class Statistic { Level, Change, Ordering, Persistence };

/// A dyad over a window of months (inclusive), as a level or one side of an ordering.
struct DyadWindow {
  int a = -1;
  int b = -1;
  Month from;
  Month to;
};

/// One [[targets]] entry. M is the ensemble median of the dyad alignment (W[a,b] + W[b,a]) / 2.
struct Target {
  std::string id;
  std::string text;
  std::vector<int> source;  ///< paragraphs of the essay, or
  std::string reference;    ///< the data set(s) the target rests on
  Statistic statistic = Statistic::Level;
  /// level: dyad and window; change: dyad (from = dates[0], to = dates[1]);
  /// persistence: dyad, from = the month the era starts, to = from + months - 1
  DyadWindow dyad;
  double lo = 0, hi = 0;  ///< band (level, change, persistence)
  DyadWindow lower, higher;  ///< ordering: level(lower) < level(higher)
  int months = 0;            ///< persistence: months the median must stay in the band from `from`
  double weight = 1.0;       ///< the target's weight in the loss
  bool held_out = false;     ///< reported, not fitted (validation out of sample)

  /// The last month the target looks at.
  Month last() const;
};

/// One [[decisions]] entry: how often a decision event must (or may) happen in the baseline.
///  - at_least: in at least this share of runs it happens within `within_months` of its date;
///  - at_most: in at most this share of runs it happens at all (a decision that did not happen).
struct DecisionTarget {
  std::string id;     ///< the event id (also the entry's id in reports)
  int event = -1;     ///< index into Scenario::events
  std::string text;
  bool at_least = true;
  double share = 0;
  int within_months = 0;  ///< at_least only
  /// at_least only: the share of runs in which it happens at all may not exceed this (an act the
  /// essay does not make near-certain is not certain); 1 when not given.
  double cap = 1.0;
  Month last;             ///< the last month it looks at: the event's date + within_months (at_most: the window's end)
  bool held_out = false;  ///< reported, not fitted
};

struct TargetSet {
  std::string path;
  std::vector<Target> targets;
  std::vector<DecisionTarget> decisions;
};

/// Reads and checks a targets file against a scenario (agents, horizon, events). Throws
/// ScenarioError listing every problem with its file, line and column.
TargetSet load_targets(const std::filesystem::path& path, const Scenario& scenario);
/// The same from text; `name` stands for the file in messages.
/// `include`d files are read relative to `base_dir`.
TargetSet load_targets_text(const std::string& text, const std::string& name, const Scenario& scenario,
                            const std::filesystem::path& base_dir = ".");

const char* statistic_name(Statistic s);

/// Marks every target and decision whose last month is after `cutoff` as held out.
void hold_out_after(TargetSet& targets, Month cutoff);
/// Marks a share of the targets and decisions, drawn with the seed, as held out.
void hold_out_random(TargetSet& targets, double share, std::uint64_t seed);

}  // namespace alignsim
