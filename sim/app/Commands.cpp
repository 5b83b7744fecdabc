#include "Commands.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "engine/Ensemble.hpp"
#include "io/OutputWriter.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

namespace alignsim::app {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

}  // namespace

std::optional<Scenario> load_or_report(const std::string& path, bool report) {
  try {
    return load_scenario(path);
  } catch (const ScenarioError& e) {
    if (!report) return std::nullopt;
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
    std::cerr << "alignsim: " << e.diagnostics().size() << " error(s) in scenario '" << path << "'\n";
    return std::nullopt;
  }
}

int validate(const std::string& path) {
  const auto s = load_or_report(path);
  if (!s) return kBadInput;
  const auto& p = s->parameters;
  std::cout << "scenario " << s->name << ": " << s->title << "\n";
  if (!s->question.empty()) std::cout << "  question    " << s->question << "\n";
  std::cout << "  horizon     " << p.start.str() << " to " << p.end.str() << " (" << p.months() << " months)\n";
  std::cout << "  parameters  k_a = " << p.k_a << ", k_r = " << p.k_r << ", k_b = " << p.k_b
            << ", sigma = " << p.sigma << ", shock_scale = " << p.shock_scale << "\n";
  std::cout << "  agents      " << s->agent_count() << ":";
  for (const auto& a : s->agents) std::cout << ' ' << a.id << " (" << a.name << ", capability " << a.capability << ")";
  std::cout << "\n  issues      " << s->issue_count() << ":";
  for (const auto& i : s->issues) std::cout << ' ' << i.id;
  int decisions = 0, uncertain = 0;
  std::map<std::string, int> kinds;
  for (const auto& e : s->events) {
    decisions += e.is_decision();
    uncertain += !e.is_decision() && (e.probability < 1 || e.jitter_months > 0);
    ++kinds[e.kind];
  }
  std::cout << "\n  events      " << s->event_count() << ": " << s->event_count() - decisions << " scheduled ("
            << uncertain << " with probability < 1 or jitter), " << decisions << " decisions\n";
  std::cout << "  by kind    ";
  for (const auto& [kind, count] : kinds) std::cout << ' ' << kind << ' ' << count;
  std::cout << "\nvalid\n";
  return kOk;
}

int resolve(const std::string& path) {
  const auto s = load_or_report(path);
  if (!s) return kBadInput;
  std::cout << "# " << s->name << ": resolved from " << path << " by alignsim " << OutputWriter::software_version()
            << "\n" << to_toml(*s);
  return kOk;
}

namespace {
/// Lines of `a` that `b` lacks, prefixed with `mark`.
void print_missing_lines(const std::string& a, const std::string& b, const char* mark) {
  std::istringstream in(a);
  std::set<std::string> other;
  {
    std::istringstream bi(b);
    for (std::string line; std::getline(bi, line);) other.insert(line);
  }
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && !other.count(line)) std::cout << "    " << mark << ' ' << line << '\n';
  }
}
}  // namespace

int diff(const std::string& path_a, const std::string& path_b) {
  const auto a = load_or_report(path_a);
  const auto b = load_or_report(path_b);
  if (!a || !b) return kBadInput;
  int differences = 0;
  const auto section = [&](const std::string& title, const std::string& x, const std::string& y) {
    if (x == y) return;
    ++differences;
    std::cout << title << ":\n";
    print_missing_lines(x, y, "-");
    print_missing_lines(y, x, "+");
  };
  // Everything but the events, compared as text.
  Scenario head_a = *a, head_b = *b;
  head_a.events.clear();
  head_b.events.clear();
  section("scenario, parameters, agents, issues, interests and eras", to_toml(head_a), to_toml(head_b));
  std::vector<std::string> removed, added;
  for (const auto& e : a->events) {
    if (b->event_index(e.id) < 0) removed.push_back(e.id);
  }
  for (const auto& e : b->events) {
    const int k = a->event_index(e.id);
    if (k < 0) {
      added.push_back(e.id);
    } else {
      section("event " + e.id, to_toml(*a, a->events[k]), to_toml(*b, e));
    }
  }
  for (const auto& [title, ids] : {std::pair{"events only in " + path_a, removed}, {"events only in " + path_b, added}}) {
    if (ids.empty()) continue;
    differences += static_cast<int>(ids.size());
    std::cout << title << ":\n";
    for (const auto& id : ids) std::cout << "    " << id << '\n';
  }
  if (differences == 0) std::cout << "no differences\n";
  return differences == 0 ? kOk : 1;
}

EnsembleOptions engine_options(const SimulateOptions& o) {
  EnsembleOptions eo;
  eo.runs = o.runs;
  eo.seed = o.seed;
  eo.threads = o.threads;
  eo.store_runs = std::min(o.store_runs, o.runs);
  eo.block_runs = o.block_runs;
  eo.progress = !o.quiet;
  return eo;
}

OutputInfo output_info(const SimulateOptions& o, const Scenario& scenario) {
  OutputInfo info;
  info.scenario_toml = to_toml(scenario);
  info.seed = o.seed;
  info.runs = o.runs;
  info.stored_runs = std::min(o.store_runs, o.runs);
  info.quantiles = o.quantiles;
  info.deflate = o.deflate;
  info.history = o.command_line;
  info.block_runs = o.block_runs;
  return info;
}

int report_simulation(const SimulateOptions& o, const EnsembleResult& result, int months, const std::string& where) {
  if (result.interrupted) {
    std::cerr << "alignsim: interrupted; '" << o.out << "' holds the " << result.runs_done
              << " runs finished (status \"partial\")\n";
    return kInterrupted;
  }
  if (!o.quiet) {
    const double steps = static_cast<double>(result.runs_done) * months;
    std::fprintf(stderr, "alignsim: %llu runs x %d months in %.2f s (%.1f million run-steps/s)%s; wrote %s\n",
                 static_cast<unsigned long long>(result.runs_done), months, result.seconds,
                 steps / result.seconds / 1e6, where.c_str(), o.out.c_str());
  }
  return kOk;
}

int simulate(const SimulateOptions& o) {
  const auto scenario = load_or_report(o.scenario);
  if (!scenario) return kBadInput;
  const Model model(*scenario);
  const EnsembleOptions eo = engine_options(o);
  const OutputInfo info = output_info(o, *scenario);

  try {
    OutputWriter writer(o.out, *scenario, model, info);
    g_stop.store(false);
    auto previous_int = std::signal(SIGINT, on_signal);
    auto previous_term = std::signal(SIGTERM, on_signal);
    EnsembleResult result = run_ensemble(model, eo, writer, &g_stop);
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    writer.finish(result.summary.finish(o.quantiles), result.event_count, result.runs_done, !result.interrupted);
    return report_simulation(o, result, model.months(), "");
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
}

}  // namespace alignsim::app
