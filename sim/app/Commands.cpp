#include "Commands.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

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

/// Loads and validates, printing every diagnostic; nullopt on failure.
std::optional<Scenario> load(const std::string& path) {
  try {
    return load_scenario(path);
  } catch (const ScenarioError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
    std::cerr << "alignsim: " << e.diagnostics().size() << " error(s) in scenario '" << path << "'\n";
    return std::nullopt;
  }
}

}  // namespace

int validate(const std::string& path) {
  const auto s = load(path);
  if (!s) return kBadInput;
  const auto& p = s->parameters;
  std::cout << "scenario " << s->name << ": " << s->title << "\n";
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

int simulate(const SimulateOptions& o) {
  const auto scenario = load(o.scenario);
  if (!scenario) return kBadInput;
  const Model model(*scenario);

  EnsembleOptions eo;
  eo.runs = o.runs;
  eo.seed = o.seed;
  eo.threads = o.threads;
  eo.store_runs = std::min(o.store_runs, o.runs);
  eo.block_runs = o.block_runs;
  eo.progress = !o.quiet;

  OutputInfo info;
  info.scenario_toml = to_toml(*scenario);
  info.seed = o.seed;
  info.runs = o.runs;
  info.stored_runs = eo.store_runs;
  info.quantiles = o.quantiles;
  info.deflate = o.deflate;
  info.history = o.command_line;

  try {
    OutputWriter writer(o.out, *scenario, model, info);
    g_stop.store(false);
    auto previous_int = std::signal(SIGINT, on_signal);
    auto previous_term = std::signal(SIGTERM, on_signal);
    EnsembleResult result = run_ensemble(model, eo, writer, &g_stop);
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    writer.finish(result.summary.finish(o.quantiles), result.event_count, result.runs_done, !result.interrupted);
    if (result.interrupted) {
      std::cerr << "alignsim: interrupted; '" << o.out << "' holds the " << result.runs_done
                << " runs finished (status \"partial\")\n";
      return kInterrupted;
    }
    if (!o.quiet) {
      const double steps = static_cast<double>(result.runs_done) * model.months();
      std::fprintf(stderr, "alignsim: %llu runs x %d months in %.2f s (%.1f million run-steps/s); wrote %s\n",
                   static_cast<unsigned long long>(result.runs_done), model.months(), result.seconds,
                   steps / result.seconds / 1e6, o.out.c_str());
    }
    return kOk;
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
}

}  // namespace alignsim::app
