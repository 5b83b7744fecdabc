#include "Evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/Ensemble.hpp"

namespace alignsim {

namespace {

/// Band [lo, hi] scored with a nominal width; an edge that is not a real limit (an ordering's
/// +inf, a share's 0 or 1) gets no margin.
void band_score(TargetResult& r, double width, bool strict_low = false, bool margin_lo = true, bool margin_hi = true) {
  r.met = strict_low ? (r.value > r.lo && r.value <= r.hi) : (r.value >= r.lo && r.value <= r.hi);
  const double aim_lo = r.lo + (margin_lo ? kMargin * width : 0.0);
  const double aim_hi = r.hi - (margin_hi ? kMargin * width : 0.0);
  const double outside = std::max({aim_lo - r.value, r.value - aim_hi, 0.0});
  r.loss = (outside / width) * (outside / width);
}

/// Adds a scored target to the fitted or the held-out tally; only fitted targets count in the loss.
void count(Evaluation& e, const TargetResult& r, bool held_out) {
  if (held_out) {
    ++e.held_out;
    e.held_out_met += r.met;
  } else {
    ++e.fitted;
    e.fitted_met += r.met;
    e.loss += r.loss;
  }
}

/// Counts, per decision target, the runs in which its event happened as the target counts it.
class DecisionCounter final : public BlockSink {
 public:
  DecisionCounter(const Scenario& s, const TargetSet& targets) : targets_(targets), events_(s.event_count()) {
    for (const auto& d : targets.decisions) date_.push_back(s.events[d.event].date - s.parameters.start);
    hits_.assign(targets.decisions.size(), 0);
    any_.assign(targets.decisions.size(), 0);
  }
  void write_block(const RunBlock& block) override {
    for (std::size_t k = 0; k < targets_.decisions.size(); ++k) {
      const auto& d = targets_.decisions[k];
      for (int r = 0; r < block.count; ++r) {
        const int t = block.event_month[static_cast<std::size_t>(r) * events_ + d.event];
        if (t < 0) continue;
        ++any_[k];
        if (!d.at_least || std::abs(t - date_[k]) <= d.within_months) ++hits_[k];
      }
    }
  }
  const std::vector<std::uint64_t>& hits() const { return hits_; }
  const std::vector<std::uint64_t>& any() const { return any_; }

 private:
  const TargetSet& targets_;
  int events_;
  std::vector<int> date_;
  std::vector<std::uint64_t> hits_, any_;
};

}  // namespace

double median_at(const Summary& median, int t, int a, int b) {
  const std::size_t nn = static_cast<std::size_t>(median.agents) * median.agents;
  return median.quantile[static_cast<std::size_t>(t) * nn + static_cast<std::size_t>(a) * median.agents + b];
}

double median_level(const Summary& median, Month start, const DyadWindow& w) {
  double sum = 0;
  for (Month m = w.from; m <= w.to; m = m + 1) sum += median_at(median, m - start, w.a, w.b);
  return sum / (w.to - w.from + 1);
}

Evaluation score(const TargetSet& targets, const Summary& median, Month start,
                 const std::vector<std::uint64_t>& decision_hits, std::uint64_t runs,
                 const std::vector<std::uint64_t>& decision_any) {
  Evaluation e;
  e.runs = runs;
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (const auto& t : targets.targets) {
    TargetResult r;
    switch (t.statistic) {
      case Statistic::Level:
        r.value = median_level(median, start, t.dyad);
        r.lo = t.lo;
        r.hi = t.hi;
        band_score(r, t.hi - t.lo);
        break;
      case Statistic::Change:
        r.value = median_at(median, t.dyad.to - start, t.dyad.a, t.dyad.b) -
                  median_at(median, t.dyad.from - start, t.dyad.a, t.dyad.b);
        r.lo = t.lo;
        r.hi = t.hi;
        band_score(r, t.hi - t.lo);
        break;
      case Statistic::Ordering:
        r.lower_level = median_level(median, start, t.lower);
        r.higher_level = median_level(median, start, t.higher);
        r.value = r.higher_level - r.lower_level;
        r.lo = 0;
        r.hi = inf;
        band_score(r, kOrderingWidth, true, true, false);
        break;
      case Statistic::Persistence: {
        int held = 0;
        for (Month m = t.dyad.from; m <= t.dyad.to; m = m + 1) {
          const double x = median_at(median, m - start, t.dyad.a, t.dyad.b);
          if (x < t.lo || x > t.hi) break;
          ++held;
        }
        r.value = held;
        r.lo = t.months;
        r.hi = inf;
        band_score(r, t.months, false, false, false);  // it cannot exceed `months`: no margin
        break;
      }
    }
    r.loss *= t.weight;
    e.targets_met += r.met;
    count(e, r, t.held_out);
    e.targets.push_back(r);
  }
  for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
    const auto& d = targets.decisions[k];
    TargetResult r;
    r.value = runs ? static_cast<double>(decision_hits[k]) / static_cast<double>(runs) : 0.0;
    r.lo = d.at_least ? d.share : 0.0;
    r.hi = d.at_least ? 1.0 : d.share;
    // A band [p, 1] (or [0, p]) has width 1 - p (or p), taken as at least 0.05 so that a target of
    // 100% (or 0%) has a finite loss; the margin applies at p only, since 1 (or 0) is no limit.
    r.met = r.value >= r.lo && r.value <= r.hi;
    const double width = std::max(0.05, r.hi - r.lo);
    const double outside = d.at_least ? std::min(1.0, r.lo + kMargin * width) - r.value
                                      : r.value - std::max(0.0, r.hi - kMargin * width);
    r.loss = outside > 0 ? (outside / width) * (outside / width) : 0.0;
    if (d.at_least && d.cap < 1.0 && k < decision_any.size() && runs) {
      // The cap on the share of runs in which it happens at all, with the same margin at the cap.
      r.any = static_cast<double>(decision_any[k]) / static_cast<double>(runs);
      const double cap_width = std::max(0.05, d.cap);
      const double over = r.any - std::max(0.0, d.cap - kMargin * cap_width);
      r.met = r.met && r.any <= d.cap;
      if (over > 0) r.loss += (over / cap_width) * (over / cap_width);
    }
    e.decisions_met += r.met;
    count(e, r, d.held_out);
    e.decisions.push_back(r);
  }
  return e;
}

Evaluation evaluate(const Scenario& scenario, const TargetSet& targets, const EnsembleSpec& spec) {
  const Model model(scenario);
  EnsembleOptions eo;
  eo.runs = spec.runs;
  eo.seed = spec.seed;
  eo.threads = spec.threads;
  eo.store_runs = 0;
  eo.block_runs = 64;
  if (spec.parts) {
    eo.part = spec.parts->part();
    eo.parts = spec.parts->parts();
  }
  DecisionCounter counter(scenario, targets);
  EnsembleResult result = run_ensemble(model, eo, counter);
  if (!spec.parts) {
    const Summary median = result.summary.finish({0.5});
    return score(targets, median, scenario.parameters.start, counter.hits(), result.runs_done, counter.any());
  }
  // Every part's tallies added up: the hits of each decision target, then its runs with the event at all.
  const std::size_t k = counter.hits().size();
  std::vector<std::uint64_t> counts = counter.hits();
  counts.insert(counts.end(), counter.any().begin(), counter.any().end());
  const Summary median = spec.parts->combine(result, counts, {0.5});
  const std::vector<std::uint64_t> hits(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(k));
  const std::vector<std::uint64_t> any(counts.begin() + static_cast<std::ptrdiff_t>(k), counts.end());
  return score(targets, median, scenario.parameters.start, hits, result.runs_done, any);
}

}  // namespace alignsim
