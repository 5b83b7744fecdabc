#include "DrawSpread.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>

#include "calibrate/Abc.hpp"

namespace alignsim::app {

DrawAccumulator::DrawAccumulator(std::unique_ptr<RunDrawReader> base, std::unique_ptr<RunDrawReader> cf, std::size_t rows)
    : base_(std::move(base)), cf_(std::move(cf)), rows_(rows), draws_(static_cast<std::size_t>(base_->draws())),
      sum_(draws_ * rows, 0.0), squares_(draws_ * rows, 0.0), runs_(draws_, 0) {}

std::unique_ptr<DrawAccumulator> DrawAccumulator::open(const std::string& base, const std::string& cf, std::size_t rows) {
  auto a = std::make_unique<RunDrawReader>(base);
  auto b = std::make_unique<RunDrawReader>(cf);
  if (!a->present() && !b->present()) return nullptr;
  const auto refuse = [&](const std::string& why) {
    throw std::runtime_error("cannot compare '" + base + "' with '" + cf + "': " + why);
  };
  if (!a->present() || !b->present()) {
    refuse("only '" + (a->present() ? base : cf) +
           "' is a posterior ensemble; run both with the same --posterior file, so that run r of each takes the same "
           "parameters");
  }
  if (a->sha256() != b->sha256()) {
    refuse("their runs come from different posterior files ('" + a->posterior() + "' and '" + b->posterior() +
           "', SHA-256 " + a->sha256().substr(0, 12) + "... and " + b->sha256().substr(0, 12) + "...)");
  }
  if (a->draws() == 0 || a->draws() > (1u << 24)) refuse("'" + base + "' has no posterior draws");
  return std::unique_ptr<DrawAccumulator>(new DrawAccumulator(std::move(a), std::move(b), rows));
}

void DrawAccumulator::read_block(std::uint64_t first, std::uint64_t count) {
  base_->read(first, count, draw_);
  cf_->read(first, count, other_);
  for (std::uint64_t r = 0; r < count; ++r) {
    if (draw_[r] != other_[r] || draw_[r] < 0 || static_cast<std::size_t>(draw_[r]) >= draws_) {
      throw std::runtime_error("run " + std::to_string(first + r) + " took draw " + std::to_string(draw_[r]) +
                               " of the posterior in one file and " + std::to_string(other_[r]) +
                               " in the other: the runs are not paired (same seed and posterior file needed)");
    }
  }
}

void DrawAccumulator::finish(ComparisonTable& t, std::size_t era_rows) const {
  std::vector<std::size_t> used;  // draws with at least one run
  std::uint64_t total = 0;
  for (std::size_t d = 0; d < draws_; ++d) {
    if (runs_[d] == 0) continue;
    used.push_back(d);
    total += runs_[d];
  }
  t.draws = used.size();
  t.posterior_sha256 = base_->sha256();
  std::vector<std::uint64_t> counts;
  for (const std::size_t d : used) counts.push_back(runs_[d]);
  std::nth_element(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(counts.size() / 2), counts.end());
  t.runs_per_draw_median = counts.empty() ? 0 : counts[counts.size() / 2];
  std::vector<double> weights;
  for (const std::size_t d : used) weights.push_back(static_cast<double>(runs_[d]));
  t.era_dyad_draws.clear();
  t.event_probability_draws.clear();
  t.draw_ids.clear();
  t.draw_runs.clear();
  for (const std::size_t d : used) {
    t.draw_ids.push_back(static_cast<std::int32_t>(d));
    t.draw_runs.push_back(runs_[d]);
  }
  t.era_dyad_draw_means.clear();
  t.event_draw_means.clear();
  for (const std::size_t d : used) {
    for (std::size_t row = 0; row < rows_; ++row) {
      (row < era_rows ? t.era_dyad_draw_means : t.event_draw_means)
          .push_back(sum_[d * rows_ + row] / static_cast<double>(runs_[d]));
    }
  }
  for (std::size_t row = 0; row < rows_; ++row) {
    DrawSpread s;
    std::vector<double> means;
    double grand = 0, within = 0;
    for (const std::size_t d : used) {
      const double n = static_cast<double>(runs_[d]);
      const double sum = sum_[d * rows_ + row];
      means.push_back(sum / n);
      grand += sum;
      within += squares_[d * rows_ + row] - sum * sum / n;
      s.p_positive += means.back() > 0 ? n : 0.0;
      s.p_negative += means.back() < 0 ? n : 0.0;
    }
    const double n_total = static_cast<double>(total);
    grand /= n_total;
    s.p_positive /= n_total;
    s.p_negative /= n_total;
    s.robust = s.p_positive >= 0.9 || s.p_negative >= 0.9;
    s.low = weighted_quantile(means, weights, 0.05);
    s.high = weighted_quantile(means, weights, 0.95);
    // Variance of the per-draw means (weighted by runs), and what Monte Carlo noise alone would give:
    // the pooled within-draw variance over each draw's runs, i.e. draws * pooled / runs.
    double between = 0;
    for (std::size_t q = 0; q < used.size(); ++q) between += weights[q] * (means[q] - grand) * (means[q] - grand);
    between /= n_total;
    const double dof = n_total - static_cast<double>(used.size());
    const double pooled = dof > 0 ? std::max(0.0, within) / dof : 0.0;
    const double noise = static_cast<double>(used.size()) * pooled / n_total;
    s.noise_share = between > 0 ? std::min(1.0, noise / between) : (noise > 0 ? 1.0 : 0.0);
    (row < era_rows ? t.era_dyad_draws : t.event_probability_draws).push_back(s);
  }
}

namespace {

constexpr const char* kExplanation =
    "Two intervals for each effect (counterfactual minus baseline):\n"
    "  Monte Carlo 95%: how precisely these runs pin down the average effect; more runs narrow it.\n"
    "  across parameters 5-95%: how the average effect varies over the parameter sets the posterior finds\n"
    "    plausible (each draw's own average over its runs); this is what the model does not know, and more runs\n"
    "    do not narrow it.\n"
    "  P(>0): the share of the parameter sets in which the effect is positive; sign \"robust\": it holds in at least\n"
    "    90% of them. noise: the share of the spread across parameter sets that is still Monte Carlo noise of each\n"
    "    set's few runs (near 0: the spread is the parameters'; above 0.5: run more runs before reading it).\n";

std::string interval(double low, double high) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%+.4f, %+.4f]", low, high);
  return buf;
}

// The columns after the label; the header and every row share them, so they line up.
constexpr const char* kColumns = " %9s  %-23s  %-23s  %5s  %-6s  %5s\n";

void print_header(const std::string& label) {
  std::printf("%s", label.c_str());
  std::printf(kColumns, "cf-base", "Monte Carlo 95%", "across parameters 5-95%", "P(>0)", "sign", "noise");
}

void print_row(const std::string& label, const Difference& d, const DrawSpread& s) {
  char difference[32], p_positive[16], noise[16];
  std::snprintf(difference, sizeof difference, "%+.4f", d.difference);
  std::snprintf(p_positive, sizeof p_positive, "%.2f", s.p_positive);
  std::snprintf(noise, sizeof noise, "%.2f", s.noise_share);
  std::printf("%s", label.c_str());
  std::printf(kColumns, difference, interval(d.low, d.high).c_str(), interval(s.low, s.high).c_str(), p_positive,
              s.robust ? "robust" : "", noise);
}

std::string padded(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

}  // namespace

void print_draw_spread(const ComparisonTable& t, bool all_events) {
  if (t.draws == 0) return;
  const std::size_t n = t.agents.size();
  std::printf("\nAcross the posterior: %llu parameter sets among the runs (median %llu runs each)\n%s",
              static_cast<unsigned long long>(t.draws), static_cast<unsigned long long>(t.runs_per_draw_median),
              kExplanation);
  if (!t.eras.empty()) {
    std::size_t era_width = 3;
    for (const auto& era : t.eras) era_width = std::max(era_width, era.size());
    std::printf("\nDyad alignment M, mean over each era\n");
    print_header(padded("era", era_width) + " " + padded("dyad", 6));
    for (std::size_t e = 0; e < t.eras.size(); ++e) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
          const std::size_t c = e * n * n + i * n + j;
          print_row(padded(t.eras[e], era_width) + " " + padded(t.agents[i] + "-" + t.agents[j], 6), t.era_dyads[c],
                    t.era_dyad_draws[c]);
        }
      }
    }
  }
  std::size_t event_width = 5;
  for (const auto& event : t.events) event_width = std::max(event_width, event.size());
  std::printf("\nProbability that each event happened%s\n", all_events ? "" : " (events whose probability changed)");
  print_header(padded("event", event_width));
  std::size_t left_out = 0;
  for (std::size_t k = 0; k < t.events.size(); ++k) {
    const auto& d = t.event_probability[k];
    const auto& s = t.event_probability_draws[k];
    const EventRow row = event_row(d, &s);
    if (!all_events && row != EventRow::Shown) {
      left_out += row == EventRow::LeftOut;
      continue;
    }
    print_row(padded(t.events[k], event_width), d, s);
  }
  print_events_left_out(left_out);
}

EventRow event_row(const Difference& d, const DrawSpread* spread) {
  double largest = std::max({std::fabs(d.difference), std::fabs(d.low), std::fabs(d.high)});
  if (spread != nullptr) largest = std::max({largest, std::fabs(spread->low), std::fabs(spread->high)});
  if (largest >= 0.00005) return EventRow::Shown;
  return largest > 0 ? EventRow::LeftOut : EventRow::Unchanged;
}

void print_events_left_out(std::size_t count) {
  if (count == 0) return;
  std::printf("(%zu more event%s changed by less than 0.00005 and would print as +0.0000: "
              "--all-events lists them, the CSV has them)\n",
              count, count == 1 ? "" : "s");
}

std::string draw_spread_csv(const ComparisonTable& t, bool event, std::size_t index) {
  if (t.draws == 0) return ",,,,";
  const auto& s = event ? t.event_probability_draws[index] : t.era_dyad_draws[index];
  std::ostringstream out;
  out.precision(9);
  out << s.low << ',' << s.high << ',' << s.p_positive << ',' << (s.robust ? 1 : 0) << ',' << s.noise_share;
  return out.str();
}

}  // namespace alignsim::app
