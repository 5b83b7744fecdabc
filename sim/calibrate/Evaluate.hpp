#pragma once
/// Scoring an ensemble against calibration targets. Every target is a band on one statistic:
///  - level:    mean over the window's months of the ensemble-median M[a,b];
///  - change:   median M[a,b] at the second date minus at the first;
///  - ordering: level(higher) - level(lower), band (0, +inf), nominal width kOrderingWidth;
///  - persistence: the months from `from` during which the median M[a,b] stays in the band, before
///                 it first leaves it; band [months, +inf), width `months`;
///  - decision: the share of runs in which the event happens within `within_months` of its date,
///              band [at_least, 1]; or in which it happens at all, band [0, at_most].
/// A target is met when its statistic lies in its band (an ordering: strictly above 0). Its loss
/// is weight * ((distance outside the band shrunk by kMargin of its width on each side) / width)^2,
/// 0 inside, and the loss of a target set is the sum over the targets that are not held out
/// (docs/calibration.md).

#include <cstdint>
#include <vector>

#include "Targets.hpp"
#include "engine/EnsembleParts.hpp"
#include "engine/Summary.hpp"
#include "model/Model.hpp"

namespace alignsim {

inline constexpr double kOrderingWidth = 0.5;  ///< nominal band width of an ordering (a typical level band)
inline constexpr double kMargin = 0.1;         ///< the loss aims this share of the width inside each band edge

struct TargetResult {
  double value = 0;  ///< the statistic (an ordering: level(higher) - level(lower))
  double lower_level = 0, higher_level = 0;  ///< ordering only
  double lo = 0, hi = 0;  ///< the band
  double any = -1;        ///< decisions with a cap: the share of runs in which it happened at all
  bool met = false;
  double loss = 0;
};

struct Evaluation {
  std::vector<TargetResult> targets;    ///< in the order of TargetSet::targets
  std::vector<TargetResult> decisions;  ///< in the order of TargetSet::decisions; value = share of runs
  std::uint64_t runs = 0;
  double loss = 0;      ///< over the fitted targets and decisions
  int targets_met = 0;  ///< of all targets, fitted or held out
  int decisions_met = 0;
  int fitted = 0, fitted_met = 0;      ///< targets and decisions that are fitted, and how many are met
  int held_out = 0, held_out_met = 0;  ///< those held out
};

/// The ensemble median of M[a,b] at month index t of a summary finished with quantiles {0.5}
/// (or any list whose first entry is 0.5).
double median_at(const Summary& median, int t, int a, int b);
/// Mean of the median M[a,b] over the window's months.
double median_level(const Summary& median, Month start, const DyadWindow& w);

/// Scores targets on a finished summary (quantile 0.5 first) and, for decisions, counts of runs:
/// `decision_hits[k]` runs (of `runs`) in which decision target k's event happened as it counts.
/// `decision_any[k]`: runs in which decision k's event happened at all (for its cap); may be empty.
Evaluation score(const TargetSet& targets, const Summary& median, Month start,
                 const std::vector<std::uint64_t>& decision_hits, std::uint64_t runs,
                 const std::vector<std::uint64_t>& decision_any = {});

struct EnsembleSpec {
  std::uint64_t runs = 1024;
  std::uint64_t seed = 1;
  int threads = 0;  ///< 0: all cores
  EnsembleParts* parts = nullptr;  ///< when set, the runs are split among its processes (docs/cluster.md)
};

/// Runs one ensemble of the scenario (blocks are discarded; only the summary and the months of
/// the decision events are kept) and scores it. With `spec.parts`, every process must call it and
/// every process gets the same evaluation as one process alone.
Evaluation evaluate(const Scenario& scenario, const TargetSet& targets, const EnsembleSpec& spec);

}  // namespace alignsim
