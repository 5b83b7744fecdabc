#include "Report.hpp"

#include "ReportFormat.hpp"
#include "scenario/Quote.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace alignsim {

namespace {

using report_format::fmt;
using report_format::json_number;


std::string dyad(const Scenario& s, const DyadWindow& w) { return s.agents[w.a].id + "-" + s.agents[w.b].id; }

std::string window(const DyadWindow& w) { return w.from.str() + ".." + w.to.str(); }

std::string band(const TargetResult& r) {
  return "[" + fmt(r.lo, "%.2f") + ", " + (std::isinf(r.hi) ? std::string("+inf") : fmt(r.hi, "%.2f")) + "]";
}

const char* yes(bool met) { return met ? "yes" : "**no**"; }

/// Evaluation numbers at which the loss table reports: 1, 2, 5, 10, 20, 50, ... and the last.
std::vector<int> checkpoints(int n) {
  std::vector<int> out;
  for (int decade = 1; decade <= n; decade *= 10) {
    for (int m : {1, 2, 5}) {
      if (m * decade <= n) out.push_back(m * decade);
    }
  }
  if (out.empty() || out.back() != n) out.push_back(n);
  return out;
}

}  // namespace

std::string describe(const Scenario& s, const Target& t) {
  switch (t.statistic) {
    case Statistic::Level: return "level " + dyad(s, t.dyad) + " " + window(t.dyad);
    case Statistic::Change: return "change " + dyad(s, t.dyad) + " " + t.dyad.from.str() + " to " + t.dyad.to.str();
    case Statistic::Persistence:
      return "persistence " + dyad(s, t.dyad) + " from " + t.dyad.from.str() + " for " + std::to_string(t.months) + " months";
    case Statistic::Ordering:
      return "ordering " + dyad(s, t.lower) + " " + window(t.lower) + " < " + dyad(s, t.higher) + " " + window(t.higher);
  }
  return "";
}

std::string report_markdown(const Scenario& s, const TargetSet& targets, const CalibrationResult& r,
                            const ReportInfo& info) {
  const auto& before = r.start;
  const auto& after = info.final_evaluation;
  const int nt = static_cast<int>(targets.targets.size());
  const int nd = static_cast<int>(targets.decisions.size());
  std::ostringstream o;
  o << "# Calibration report: " << s.name << "\n\n";
  o << "Written by `alignsim calibrate` (" << info.software << "); the method is in docs/calibration.md.\n\n";
  o << "| | |\n|---|---|\n";
  o << "| command | `" << info.command_line << "` |\n";
  o << "| scenario | `" << info.scenario_path << "` |\n";
  o << "| targets | `" << info.targets_path << "` (" << nt << " targets, " << nd << " decisions) |\n";
  o << "| calibrated file | " << (info.overlay_path.empty() ? "none written" : "`" + info.overlay_path + "`") << " |\n";
  o << "| ensemble per evaluation | " << info.options.ensemble.runs << " runs, seed " << info.options.ensemble.seed
    << " (the same for every evaluation: common random numbers) |\n";
  o << "| optimiser | NLopt " << algorithm_name(info.options.algorithm) << ", bounded, initial step "
    << info.options.initial_step << " of each range, at most " << info.options.max_evals << " evaluations |\n";
  o << "| objective | loss + " << info.options.prior_weight
    << " x sum of squared moves from the start, each as a share of its range |\n";
  o << "| evaluations | " << r.evaluations << ", stopped by " << r.stop_reason << " |\n";
  o << "| time | " << fmt(r.seconds, "%.1f") << " s |\n\n";

  o << "## Result\n\n";
  o << "| | before | after |\n|---|---|---|\n";
  o << "| targets met | " << before.targets_met << " / " << nt << " | " << after.targets_met << " / " << nt << " |\n";
  o << "| decisions met | " << before.decisions_met << " / " << nd << " | " << after.decisions_met << " / " << nd << " |\n";
  o << "| fitted targets and decisions met | " << before.fitted_met << " / " << before.fitted << " | " << after.fitted_met
    << " / " << after.fitted << " |\n";
  if (after.held_out > 0) {
    o << "| held-out targets and decisions met (not fitted) | " << before.held_out_met << " / " << before.held_out << " | "
      << after.held_out_met << " / " << after.held_out << " |\n";
  }
  o << "| loss (fitted only) | " << fmt(before.loss, "%.5f") << " | " << fmt(after.loss, "%.5f") << " |\n";
  const double prior = prior_penalty(r.variables, info.final_values, info.options.prior_weight);
  o << "| objective (loss + prior term) | " << fmt(r.start_objective, "%.5f") << " | " << fmt(after.loss + prior, "%.5f")
    << " |\n\n";
  o << "\"After\" is the calibrated file as written (values rounded), loaded and run again with the same runs and "
       "seed.\n\n";

  o << "## Free numbers\n\n| name | bounds | before | after |\n|---|---|---|---|\n";
  for (std::size_t k = 0; k < r.variables.size(); ++k) {
    const auto& v = r.variables[k];
    o << "| `" << v.name << "` | [" << fmt(v.lo, "%.4g") << ", " << fmt(v.hi, "%.4g") << "] | " << fmt(value_of(s, v), "%.4g")
      << " | " << fmt(k < info.final_values.size() ? info.final_values[k] : r.best[k], "%.4g") << " |\n";
  }

  o << "\n## Targets\n\nStatistics of the ensemble median of M; an ordering's value is level(higher) - level(lower).\n\n";
  o << "| target | statistic | band | before | after | met | fitted |\n|---|---|---|---|---|---|---|\n";
  for (int k = 0; k < nt; ++k) {
    const auto& t = targets.targets[k];
    o << "| `" << t.id << "` | " << describe(s, t) << " | " << band(after.targets[k]) << " | "
      << fmt(before.targets[k].value) << (before.targets[k].met ? "" : " (not met)") << " | " << fmt(after.targets[k].value)
      << " | " << yes(after.targets[k].met) << " | " << (t.held_out ? "held out" : "fitted") << " |\n";
  }

  if (nd > 0) {
    o << "\n## Decisions\n\nShare of runs in which the event happens within the given months of its date (at least), "
         "or at all (at most).\n\n";
    o << "| event | date | expected | before | after | met | fitted |\n|---|---|---|---|---|---|---|\n";
    for (int k = 0; k < nd; ++k) {
      const auto& d = targets.decisions[k];
      const std::string expected = d.at_least ? ">= " + fmt(d.share, "%.2f") + " within " +
                                                    std::to_string(d.within_months) + " months" +
                                                    (d.cap < 1 ? ", <= " + fmt(d.cap, "%.2f") + " at all" : std::string())
                                              : "<= " + fmt(d.share, "%.2f") + " at all";
      o << "| `" << d.id << "` | " << s.events[d.event].date.str() << " | " << expected << " | "
        << fmt(before.decisions[k].value) << " | " << fmt(after.decisions[k].value) << " | " << yes(after.decisions[k].met)
        << " | " << (d.held_out ? "held out" : "fitted") << " |\n";
    }
  }

  o << "\n## Loss over the evaluations\n\nEvery evaluation's loss and objective are in `report.json` (`loss_trace`, "
       "`objective_trace`). \"Best\" is the lowest objective so far and the loss at that point.\n\n";
  o << "| evaluation | loss | objective | best objective | its loss |\n|---|---|---|---|---|\n";
  o << "| start (as given) | " << fmt(before.loss, "%.5f") << " | " << fmt(r.start_objective, "%.5f") << " | "
    << fmt(r.start_objective, "%.5f") << " | " << fmt(before.loss, "%.5f") << " |\n";
  double best = r.start_objective;
  double best_loss = before.loss;
  std::size_t next = 0;
  const auto marks = checkpoints(static_cast<int>(r.loss_trace.size()));
  for (std::size_t k = 0; k < r.loss_trace.size(); ++k) {
    if (r.objective_trace[k] < best) {
      best = r.objective_trace[k];
      best_loss = r.loss_trace[k];
    }
    if (next < marks.size() && static_cast<int>(k + 1) == marks[next]) {
      o << "| " << k + 1 << " | " << fmt(r.loss_trace[k], "%.5f") << " | " << fmt(r.objective_trace[k], "%.5f") << " | "
        << fmt(best, "%.5f") << " | " << fmt(best_loss, "%.5f") << " |\n";
      ++next;
    }
  }
  return o.str();
}

std::string report_json(const Scenario& s, const TargetSet& targets, const CalibrationResult& r, const ReportInfo& info) {
  const auto& before = r.start;
  const auto& after = info.final_evaluation;
  std::ostringstream o;
  o << "{\n";
  o << "  \"software\": " << quoted(info.software) << ",\n";
  o << "  \"command\": " << quoted(info.command_line) << ",\n";
  o << "  \"scenario\": " << quoted(info.scenario_path) << ",\n";
  o << "  \"targets_file\": " << quoted(info.targets_path) << ",\n";
  o << "  \"calibrated_file\": " << (info.overlay_path.empty() ? "null" : quoted(info.overlay_path)) << ",\n";
  o << "  \"runs\": " << info.options.ensemble.runs << ",\n";
  o << "  \"seed\": " << info.options.ensemble.seed << ",\n";
  o << "  \"algorithm\": " << quoted(algorithm_name(info.options.algorithm)) << ",\n";
  o << "  \"initial_step\": " << json_number(info.options.initial_step) << ",\n";
  o << "  \"prior_weight\": " << json_number(info.options.prior_weight) << ",\n";
  o << "  \"max_evals\": " << info.options.max_evals << ",\n";
  o << "  \"evaluations\": " << r.evaluations << ",\n";
  o << "  \"stop_reason\": " << quoted(r.stop_reason) << ",\n";
  o << "  \"interrupted\": " << (r.interrupted ? "true" : "false") << ",\n";
  o << "  \"seconds\": " << json_number(r.seconds) << ",\n";
  o << "  \"loss\": {\"before\": " << json_number(before.loss) << ", \"after\": " << json_number(after.loss) << "},\n";
  o << "  \"objective\": {\"before\": " << json_number(r.start_objective) << ", \"after\": "
    << json_number(after.loss + prior_penalty(r.variables, info.final_values, info.options.prior_weight)) << "},\n";
  o << "  \"targets_met\": {\"before\": " << before.targets_met << ", \"after\": " << after.targets_met
    << ", \"of\": " << targets.targets.size() << "},\n";
  o << "  \"decisions_met\": {\"before\": " << before.decisions_met << ", \"after\": " << after.decisions_met
    << ", \"of\": " << targets.decisions.size() << "},\n";
  o << "  \"fitted_met\": {\"before\": " << before.fitted_met << ", \"after\": " << after.fitted_met
    << ", \"of\": " << after.fitted << "},\n";
  o << "  \"held_out_met\": {\"before\": " << before.held_out_met << ", \"after\": " << after.held_out_met
    << ", \"of\": " << after.held_out << "},\n";
  o << "  \"free\": [\n";
  for (std::size_t k = 0; k < r.variables.size(); ++k) {
    const auto& v = r.variables[k];
    o << "    {\"name\": " << quoted(v.name) << ", \"lo\": " << json_number(v.lo) << ", \"hi\": " << json_number(v.hi)
      << ", \"before\": " << json_number(value_of(s, v)) << ", \"best\": " << json_number(r.best[k])
      << ", \"after\": " << json_number(k < info.final_values.size() ? info.final_values[k] : r.best[k]) << "}"
      << (k + 1 < r.variables.size() ? "," : "") << "\n";
  }
  o << "  ],\n  \"targets\": [\n";
  for (std::size_t k = 0; k < targets.targets.size(); ++k) {
    const auto& t = targets.targets[k];
    const auto& b = before.targets[k];
    const auto& a = after.targets[k];
    o << "    {\"id\": " << quoted(t.id) << ", \"statistic\": " << quoted(statistic_name(t.statistic))
      << ", \"what\": " << quoted(describe(s, t)) << ", \"band\": [" << json_number(a.lo) << ", " << json_number(a.hi)
      << "], \"before\": {\"value\": " << json_number(b.value) << ", \"met\": " << (b.met ? "true" : "false")
      << ", \"loss\": " << json_number(b.loss) << "}, \"after\": {\"value\": " << json_number(a.value)
      << ", \"met\": " << (a.met ? "true" : "false") << ", \"loss\": " << json_number(a.loss)
      << "}, \"held_out\": " << (t.held_out ? "true" : "false") << ", \"last\": " << quoted(t.last().str()) << "}"
      << (k + 1 < targets.targets.size() ? "," : "") << "\n";
  }
  o << "  ],\n  \"decisions\": [\n";
  for (std::size_t k = 0; k < targets.decisions.size(); ++k) {
    const auto& d = targets.decisions[k];
    const auto& b = before.decisions[k];
    const auto& a = after.decisions[k];
    o << "    {\"event\": " << quoted(d.id) << ", \"date\": " << quoted(s.events[d.event].date.str())
      << ", \"expect\": " << quoted(d.at_least ? "at_least" : "at_most") << ", \"share\": " << json_number(d.share)
      << ", \"within_months\": " << (d.at_least ? std::to_string(d.within_months) : std::string("null"))
      << ", \"cap\": " << json_number(d.cap) << ", \"share_at_all\": " << json_number(a.any)
      << ", \"before\": {\"value\": " << json_number(b.value) << ", \"met\": " << (b.met ? "true" : "false")
      << "}, \"after\": {\"value\": " << json_number(a.value) << ", \"met\": " << (a.met ? "true" : "false")
      << "}, \"held_out\": " << (d.held_out ? "true" : "false") << ", \"last\": " << quoted(d.last.str()) << "}"
      << (k + 1 < targets.decisions.size() ? "," : "") << "\n";
  }
  o << "  ],\n  \"loss_trace\": [";
  for (std::size_t k = 0; k < r.loss_trace.size(); ++k) {
    o << (k % 10 == 0 ? "\n    " : " ") << json_number(r.loss_trace[k]) << (k + 1 < r.loss_trace.size() ? "," : "");
  }
  o << "\n  ],\n  \"objective_trace\": [";
  for (std::size_t k = 0; k < r.objective_trace.size(); ++k) {
    o << (k % 10 == 0 ? "\n    " : " ") << json_number(r.objective_trace[k]) << (k + 1 < r.objective_trace.size() ? "," : "");
  }
  o << "\n  ]\n}\n";
  return o.str();
}

}  // namespace alignsim
