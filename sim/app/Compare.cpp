#include "Compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <stdexcept>

#include "Commands.hpp"
#include "DrawSpread.hpp"
#include "io/OutputWriter.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"
#include "scenario/Streams.hpp"

namespace alignsim::app {

namespace {

constexpr double kZ95 = 1.959963984540054;  // the normal quantile of 0.975

/// Sums for a paired mean difference and the two means.
struct Paired {
  double n = 0, b = 0, c = 0, d = 0, bb = 0, cc = 0, dd = 0;
  void add(double base, double cf) {
    const double diff = cf - base;
    n += 1;
    b += base;
    c += cf;
    d += diff;
    bb += base * base;
    cc += cf * cf;
    dd += diff * diff;
  }
  Difference result() const {
    Difference r;
    if (n == 0) return r;
    r.base = b / n;
    r.cf = c / n;
    r.difference = d / n;
    const auto var = [&](double sum, double squares) {
      return n > 1 ? std::max(0.0, (squares - sum * sum / n) / (n - 1)) : 0.0;
    };
    const double paired = kZ95 * std::sqrt(var(d, dd) / n);
    const double unpaired = kZ95 * std::sqrt(var(b, bb) / n + var(c, cc) / n);
    r.low = r.difference - paired;
    r.high = r.difference + paired;
    r.unpaired_low = r.difference - unpaired;
    r.unpaired_high = r.difference + unpaired;
    return r;
  }
};

const char* role_name(ComparisonTable::Role r) {
  switch (r) {
    case ComparisonTable::Role::Same: return "responded";
    case ComparisonTable::Role::Changed: return "changed_by_counterfactual";
    case ComparisonTable::Role::Only: return "in_one_scenario_only";
  }
  return "";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

/// Fills the table's event roles, dates and decision flags from the two files' resolved scenarios.
void classify_events(const std::string& base_toml, const std::string& cf_toml, ComparisonTable& t) {
  std::optional<Scenario> a, b;
  try {
    a = load_scenario_text(base_toml, "base scenario");
    b = load_scenario_text(cf_toml, "counterfactual scenario");
  } catch (const ScenarioError&) {
    a.reset();  // a file from another version: no roles
  }
  using Role = ComparisonTable::Role;
  for (const auto& id : t.events) {
    if (!a || !b) {
      t.event_role.push_back(Role::Same);
      t.event_date.push_back("");
      t.event_decision.push_back(0);
      continue;
    }
    const int i = a->event_index(id), j = b->event_index(id);
    const Scenario& s = i >= 0 ? *a : *b;
    const Event& e = s.events[i >= 0 ? i : j];
    t.event_date.push_back(e.date.str());
    t.event_decision.push_back(e.is_decision());
    if (i < 0 || j < 0) {
      t.event_role.push_back(Role::Only);
      continue;
    }
    const Event& x = a->events[i];
    const Event& y = b->events[j];
    bool same = to_toml(*a, x) == to_toml(*b, y);
    if (same && x.is_option() && y.is_option()) same = to_toml(*a, a->choices[x.choice]) == to_toml(*b, b->choices[y.choice]);
    t.event_role.push_back(same ? Role::Same : Role::Changed);
  }
}

}  // namespace

ComparisonTable compare_files(const std::string& base_path, const std::string& cf_path) {
  const EnsembleReader base(base_path);
  const EnsembleReader cf(cf_path);
  const auto& a = base.header();
  const auto& b = cf.header();
  const auto refuse = [&](const std::string& why) {
    throw std::runtime_error("cannot compare '" + base_path + "' with '" + cf_path + "': " + why);
  };
  if (a.status != "complete" || b.status != "complete") refuse("both files must be complete (one has status \"partial\")");
  if (a.seed != b.seed) {
    refuse("their seeds differ (" + std::to_string(a.seed) + " and " + std::to_string(b.seed) +
           "); paired runs need the same seed, so that run r of each shares its random numbers");
  }
  if (a.runs != b.runs) {
    refuse("their run counts differ (" + std::to_string(a.runs) + " and " + std::to_string(b.runs) +
           "); runs are paired by index");
  }
  if (a.agents != b.agents) refuse("their agents differ (" + join(a.agents) + " and " + join(b.agents) + ")");

  ComparisonTable t;
  t.base_path = shown_path(base_path);
  t.cf_path = shown_path(cf_path);
  t.runs = a.runs;
  t.seed = a.seed;
  t.agents = a.agents;
  // Eras in both files, in the base's order; events in either, the base's first.
  std::vector<std::pair<int, int>> era_index;
  for (std::size_t i = 0; i < a.eras.size(); ++i) {
    for (std::size_t j = 0; j < b.eras.size(); ++j) {
      if (a.eras[i] == b.eras[j]) {
        t.eras.push_back(a.eras[i]);
        era_index.emplace_back(static_cast<int>(i), static_cast<int>(j));
      }
    }
  }
  std::vector<std::pair<int, int>> event_index;
  std::map<std::string, int> in_cf;
  for (std::size_t j = 0; j < b.events.size(); ++j) in_cf[b.events[j]] = static_cast<int>(j);
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    t.events.push_back(a.events[i]);
    const auto it = in_cf.find(a.events[i]);
    event_index.emplace_back(static_cast<int>(i), it == in_cf.end() ? -1 : it->second);
    if (it != in_cf.end()) in_cf.erase(it);
  }
  for (std::size_t j = 0; j < b.events.size(); ++j) {
    if (!in_cf.count(b.events[j])) continue;
    t.events.push_back(b.events[j]);
    event_index.emplace_back(-1, static_cast<int>(j));
  }

  const std::size_t n = t.agents.size();
  std::vector<Paired> eras(t.eras.size() * n * n), events(t.events.size());
  classify_events(a.scenario, b.scenario, t);
  // Posterior ensembles: the same sums per draw, for the spread of the effect across draws.
  const std::size_t era_rows = t.eras.size() * n * n;
  const auto draws = DrawAccumulator::open(base_path, cf_path, era_rows + t.events.size());
  // The path of the effect: for every decision the counterfactual did not change, the runs in which
  // it flipped, and the sum of their era differences.
  std::vector<std::size_t> candidates;
  for (std::size_t k = 0; k < t.events.size(); ++k) {
    if (t.event_role[k] == ComparisonTable::Role::Same && t.event_decision[k]) candidates.push_back(k);
  }
  std::vector<double> flips(candidates.size(), 0.0), through_flip(candidates.size() * era_rows, 0.0);
  std::vector<double> run_difference(era_rows, 0.0), happened(t.events.size() * 2, 0.0);
  std::vector<std::int16_t> em_a, em_b;
  std::vector<float> era_a, era_b;
  const std::size_t ea = a.events.size(), eb = b.events.size();
  const std::size_t ra = a.eras.size() * n * n, rb = b.eras.size() * n * n;
  const std::uint64_t block = std::min(base.runs_per_read(), cf.runs_per_read());  // bounded memory, whatever the files
  for (std::uint64_t first = 0; first < t.runs; first += block) {
    const std::uint64_t count = std::min(block, t.runs - first);
    base.read(first, count, em_a, era_a);
    cf.read(first, count, em_b, era_b);
    if (draws) draws->read_block(first, count);
    for (std::uint64_t r = 0; r < count; ++r) {
      if (draws) draws->count(r);
      for (std::size_t k = 0; k < event_index.size(); ++k) {
        const auto [i, j] = event_index[k];
        const double x = i >= 0 && em_a[r * ea + i] >= 0 ? 1.0 : 0.0, y = j >= 0 && em_b[r * eb + j] >= 0 ? 1.0 : 0.0;
        happened[2 * k] = x;
        happened[2 * k + 1] = y;
        events[k].add(x, y);
        if (draws) draws->add(r, era_rows + k, y - x);
      }
      for (std::size_t e = 0; e < era_index.size(); ++e) {
        const float* x = &era_a[r * ra + era_index[e].first * n * n];
        const float* y = &era_b[r * rb + era_index[e].second * n * n];
        for (std::size_t c = 0; c < n * n; ++c) {
          if (c / n == c % n) continue;
          eras[e * n * n + c].add(x[c], y[c]);
          run_difference[e * n * n + c] = static_cast<double>(y[c]) - static_cast<double>(x[c]);
          if (draws) draws->add(r, e * n * n + c, run_difference[e * n * n + c]);
        }
      }
      for (std::size_t q = 0; q < candidates.size(); ++q) {
        const std::size_t k = candidates[q];
        if (happened[2 * k] == happened[2 * k + 1]) continue;
        flips[q] += 1;
        double* sum = &through_flip[q * era_rows];
        for (std::size_t c = 0; c < era_rows; ++c) sum[c] += run_difference[c];
      }
    }
  }
  for (const auto& p : eras) t.era_dyads.push_back(p.result());
  for (const auto& p : events) t.event_probability.push_back(p.result());
  // The decisions on the path: those whose probability moved (the 95% interval excludes 0).
  const double runs = static_cast<double>(t.runs);
  for (std::size_t q = 0; q < candidates.size(); ++q) {
    const auto& d = t.event_probability[candidates[q]];
    if (!(d.low > 0 || d.high < 0) || flips[q] == 0) continue;
    t.path_events.push_back(candidates[q]);
    t.path_flip_share.push_back(flips[q] / runs);
    for (std::size_t c = 0; c < era_rows; ++c) t.path_through_flip.push_back(through_flip[q * era_rows + c] / runs);
  }
  if (draws) draws->finish(t, era_rows);
  return t;
}

std::string base_mismatch(const EnsembleHeader& base, const EnsembleHeader& cf) {
  std::optional<Scenario> a, b;
  try {
    a = load_scenario_text(base.scenario, "base scenario");
    b = load_scenario_text(cf.scenario, "counterfactual scenario");
  } catch (const ScenarioError&) {
    return "";  // a file from another version: nothing to check
  }
  const std::string hash = fnv1a64_hex(base.scenario);
  const auto& ok = b->base_fnv1a;
  if (ok.empty() || std::find(ok.begin(), ok.end(), hash) != ok.end()) return "";
  std::string what = "the counterfactual '" + b->name + "' extends the scenario '" + b->base.front() + "'";
  for (std::size_t k = 1; k < b->base.size(); ++k) what += (k == 1 ? " (a counterfactual of '" : "', of '") + b->base[k];
  if (b->base.size() > 1) what += "')";
  if (std::find(b->base.begin(), b->base.end(), a->name) != b->base.end()) {
    return what + ", but the baseline file holds another version of '" + a->name + "' (its resolved scenario "
           "differs: other parameters, events or decisions; fnv1a " + hash + ")";
  }
  return what + ", but the baseline file holds the scenario '" + a->name + "'";
}

namespace {

/// Refuses (or, when allowed, warns about) a counterfactual whose base is not the baseline's scenario:
/// its differences would mix what the overlay changed with what differs between the two bases.
void check_base(const CompareOptions& o) {
  const EnsembleReader base(o.base), cf(o.cf);
  const std::string why = base_mismatch(base.header(), cf.header());
  if (why.empty()) return;
  const std::string consequence =
      "; the differences would mix the counterfactual's changes with the differences between the two "
      "scenarios. Compare it with an ensemble of the scenario it extends (same seed and runs)";
  if (!o.allow_different_base) {
    throw std::runtime_error("cannot compare '" + o.base + "' with '" + o.cf + "': " + why + consequence +
                             ", or pass --allow-different-base");
  }
  std::cerr << "alignsim: warning: " << why << consequence << '\n';
}

/// Warnings about a comparison that is valid but cannot show anything.
void warn_if_pointless(const CompareOptions& o) {
  std::error_code ec;
  if (std::filesystem::equivalent(o.base, o.cf, ec)) {
    std::cerr << "alignsim: warning: '" << o.base << "' and '" << o.cf
              << "' are the same file: every difference is 0\n";
    return;
  }
  const EnsembleReader base(o.base), cf(o.cf);
  if (base.header().scenario_sha256 == cf.header().scenario_sha256) {
    std::cerr << "alignsim: warning: '" << o.base << "' and '" << o.cf
              << "' hold the same scenario: with the same seed every difference is 0\n";
  }
}

/// The table as CSV text.
std::string csv_text(const ComparisonTable& t) {
  const std::size_t n = t.agents.size();
  std::ostringstream csv;
  // A comparison of posterior ensembles adds the spread across parameter sets (DrawSpread.hpp).
  const bool draws = t.draws > 0;
  const auto spread = [&](bool event, std::size_t k) { return draws ? "," + draw_spread_csv(t, event, k) : std::string(); };
  csv << "quantity,era,a,b,event,base,cf,difference,ci_low,ci_high,unpaired_ci_low,unpaired_ci_high,event_role"
      << (draws ? ",draws_low,draws_high,p_positive,robust,draws_noise_share" : "") << '\n';
  csv.precision(9);
  for (std::size_t e = 0; e < t.eras.size(); ++e) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const auto& d = t.era_dyads[e * n * n + i * n + j];
        csv << "alignment," << t.eras[e] << ',' << t.agents[i] << ',' << t.agents[j] << ",," << d.base << ',' << d.cf
            << ',' << d.difference << ',' << d.low << ',' << d.high << ',' << d.unpaired_low << ',' << d.unpaired_high
            << ',' << spread(false, e * n * n + i * n + j) << '\n';
      }
    }
  }
  for (std::size_t k = 0; k < t.events.size(); ++k) {
    const auto& d = t.event_probability[k];
    csv << "event_probability,,,," << t.events[k] << ',' << d.base << ',' << d.cf << ',' << d.difference << ','
        << d.low << ',' << d.high << ',' << d.unpaired_low << ',' << d.unpaired_high << ','
        << role_name(t.event_role[k]) << spread(true, k) << '\n';
  }
  return csv.str();
}

}  // namespace

int compare(const CompareOptions& o) {
  // The outputs are checked, and their temporary files made, before any work.
  std::unique_ptr<OutputPath> csv_out, h5_out;
  if (const int status = prepare_outputs([&] {
        const std::vector<std::filesystem::path> inputs = {o.base, o.cf};
        if (!o.csv.empty()) csv_out = std::make_unique<OutputPath>(o.csv, inputs, o.overwrite, "--csv");
        if (!o.h5.empty()) h5_out = std::make_unique<OutputPath>(o.h5, inputs, o.overwrite, "--h5");
      })) {
    return status;
  }
  ComparisonTable t;
  try {
    t = compare_files(o.base, o.cf);
    check_base(o);
    warn_if_pointless(o);
  } catch (const std::runtime_error& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  }
  const std::size_t n = t.agents.size();
  std::printf("Counterfactual %s\n   against base %s\n%llu paired runs, seed %llu; 95%% intervals of the mean paired "
              "difference (unpaired: as if the runs were independent)\n",
              o.cf.c_str(), o.base.c_str(), static_cast<unsigned long long>(t.runs),
              static_cast<unsigned long long>(t.seed));
  if (!t.eras.empty()) {
    std::printf("\nDyad alignment M, mean over each era\n%-26s %-6s %8s %8s %9s  %-22s %s\n", "era", "dyad", "base", "cf",
                "cf-base", "95% CI, paired", "unpaired");
    for (std::size_t e = 0; e < t.eras.size(); ++e) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
          const auto& d = t.era_dyads[e * n * n + i * n + j];
          const std::string dyad = t.agents[i] + "-" + t.agents[j];
          std::printf("%-26s %-6s %8.4f %8.4f %+9.4f  [%+.4f, %+.4f]    [%+.4f, %+.4f]\n", t.eras[e].c_str(),
                      dyad.c_str(), d.base, d.cf, d.difference, d.low, d.high, d.unpaired_low, d.unpaired_high);
        }
      }
    }
  }
  std::printf("\nProbability that each event happened%s\n%-40s %7s %7s %8s  %-20s %s\n",
              o.all_events ? "" : " (only events whose probability changed; --all-events for every one)", "event",
              "base", "cf", "cf-base", "95% CI, paired", "unpaired");
  std::size_t left_out = 0;
  for (std::size_t k = 0; k < t.events.size(); ++k) {
    const auto& d = t.event_probability[k];
    const EventRow row = event_row(d);
    if (!o.all_events && row != EventRow::Shown) {
      left_out += row == EventRow::LeftOut;
      continue;
    }
    std::printf("%-40s %7.4f %7.4f %+8.4f  [%+.4f, %+.4f]   [%+.4f, %+.4f]\n", t.events[k].c_str(), d.base, d.cf,
                d.difference, d.low, d.high, d.unpaired_low, d.unpaired_high);
  }
  print_events_left_out(left_out);
  // The path of the effect: decisions the counterfactual left as they were, whose probability moved.
  std::vector<std::size_t> path(t.path_events.size());  // positions in path_events, by date
  std::iota(path.begin(), path.end(), std::size_t{0});
  std::stable_sort(path.begin(), path.end(), [&](std::size_t x, std::size_t y) {
    return t.event_date[t.path_events[x]] < t.event_date[t.path_events[y]];
  });
  std::printf("\nThe path of the effect: decisions the counterfactual did not change whose probability moved (95%% "
              "interval excludes 0), by date; under each, the share of runs in which it went differently in the two "
              "worlds and the era effects those runs carry most (their part of the effect, of the whole)\n");
  if (path.empty()) std::printf("  none\n");
  const std::size_t era_rows = t.era_dyads.size();
  for (const std::size_t q : path) {
    const std::size_t k = t.path_events[q];
    const auto& d = t.event_probability[k];
    std::printf("  %s  %-40s %7.4f -> %7.4f  %+8.4f  [%+.4f, %+.4f]\n", t.event_date[k].c_str(), t.events[k].c_str(),
                d.base, d.cf, d.difference, d.low, d.high);
    std::vector<std::size_t> cells;
    for (std::size_t c = 0; c < era_rows; ++c) {
      if ((c % (n * n)) / n < (c % (n * n)) % n) cells.push_back(c);  // each dyad once
    }
    const double* through = &t.path_through_flip[q * era_rows];
    std::stable_sort(cells.begin(), cells.end(),
                     [&](std::size_t x, std::size_t y) { return std::abs(through[x]) > std::abs(through[y]); });
    std::printf("      flipped in %.1f%% of runs; carries", 100 * t.path_flip_share[q]);
    for (std::size_t m = 0; m < std::min<std::size_t>(3, cells.size()); ++m) {
      const std::size_t c = cells[m], e = c / (n * n), i = (c % (n * n)) / n, j = c % n;
      std::printf("%s %s-%s %s %+.4f of %+.4f", m ? ";" : "", t.agents[i].c_str(), t.agents[j].c_str(), t.eras[e].c_str(),
                  through[c], t.era_dyads[c].difference);
    }
    std::printf("\n");
  }
  print_draw_spread(t, o.all_events);
  try {
    if (csv_out) write_text_output(*csv_out, csv_text(t));
    if (h5_out) {
      write_comparison_h5(h5_out->temp_path(), t, h5_out->path().string());
      h5_out->commit();
    }
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
  return kOk;
}

}  // namespace alignsim::app
