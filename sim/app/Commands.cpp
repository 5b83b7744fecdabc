#include "Commands.hpp"

#include <algorithm>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "PosteriorEnsemble.hpp"
#include "engine/Ensemble.hpp"
#include "io/OutputWriter.hpp"
#include "io/PartialOutput.hpp"
#include "io/StopSignals.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

namespace alignsim::app {

void report_errors(const ScenarioError& e, const std::string& what, const std::string& path, std::ostream& err) {
  for (const auto& d : e.diagnostics()) err << d.str() << '\n';
  err << "alignsim: " << e.diagnostics().size() << " error(s) in " << what << " '" << path << "'\n";
}

std::optional<Scenario> load_or_report(const std::string& path, bool report, std::vector<std::filesystem::path>* files) {
  try {
    return load_scenario(path, files);
  } catch (const ScenarioError& e) {
    if (report) report_errors(e, "scenario", path);
    return std::nullopt;
  }
}

int prepare_outputs(const std::function<void()>& make_outputs) {
  try {
    make_outputs();
    return kOk;
  } catch (const OutputRefused& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
}

int validate(const std::string& path) {
  const auto s = load_or_report(path);
  if (!s) return kBadInput;
  const auto& p = s->parameters;
  std::cout << "scenario " << s->name << ": " << s->title << "\n";
  if (!s->question.empty()) std::cout << "  question    " << s->question << "\n";
  std::cout << "  horizon     " << p.start.str() << " to " << p.end.str() << " (" << p.months() << " months)\n";
  std::cout << "  parameters ";
  for (const auto& row : parameter_table()) std::cout << ' ' << row.name << " = " << row.get(p);
  std::cout << "\n";
  std::cout << "  agents      " << s->agent_count() << ":";
  for (const auto& a : s->agents) std::cout << ' ' << a.id << " (" << a.name << ", capability " << a.capability << ")";
  std::cout << "\n  issues      " << s->issue_count() << ":";
  for (const auto& i : s->issues) std::cout << ' ' << i.id;
  int decisions = 0, options = 0, uncertain = 0, context = 0;
  std::map<std::string, int> kinds;
  for (const auto& e : s->events) {
    decisions += e.is_decision() && !e.is_option();
    options += e.is_option();
    uncertain += !e.is_decision() && (e.probability < 1 || e.jitter_months > 0);
    context += e.context;
    ++kinds[e.kind];
  }
  std::cout << "\n  events      " << s->event_count() << ": " << s->event_count() - decisions - options
            << " scheduled (" << uncertain << " with probability < 1 or jitter), " << decisions << " decisions, "
            << options << " options of " << s->choices.size() << " choices; " << context << " context events\n";
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
  // Everything but the events and choices, compared as text.
  Scenario head_a = *a, head_b = *b;
  head_a.events.clear();
  head_b.events.clear();
  head_a.choices.clear();
  head_b.choices.clear();
  section("scenario, parameters, agents, issues, interests and eras", to_toml(head_a), to_toml(head_b));
  // Events and choices, matched by id.
  const auto by_id = [&](const char* what, const auto& items_a, const auto& items_b, const auto& text_a,
                         const auto& text_b) {
    std::vector<std::string> removed, added;
    for (std::size_t k = 0; k < items_a.size(); ++k) {
      const auto it = std::find_if(items_b.begin(), items_b.end(), [&](const auto& x) { return x.id == items_a[k].id; });
      if (it == items_b.end()) {
        removed.push_back(items_a[k].id);
      } else {
        section(std::string(what) + " " + it->id, text_a(items_a[k]), text_b(*it));
      }
    }
    for (const auto& x : items_b) {
      if (std::none_of(items_a.begin(), items_a.end(), [&](const auto& y) { return y.id == x.id; })) added.push_back(x.id);
    }
    for (const auto& [where, ids] : {std::pair{path_a, removed}, {path_b, added}}) {
      if (ids.empty()) continue;
      differences += static_cast<int>(ids.size());
      std::cout << what << "s only in " << where << ":\n";
      for (const auto& id : ids) std::cout << "    " << id << '\n';
    }
  };
  by_id("event", a->events, b->events, [&](const Event& e) { return to_toml(*a, e); },
        [&](const Event& e) { return to_toml(*b, e); });
  by_id("choice", a->choices, b->choices, [&](const Choice& c) { return to_toml(*a, c); },
        [&](const Choice& c) { return to_toml(*b, c); });
  if (differences == 0) std::cout << "no differences\n";
  return differences == 0 ? kOk : 1;
}

void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int check_simulate_options(const SimulateOptions& o, bool report) {
  for (std::size_t k = 0; k < o.quantiles.size(); ++k) {
    if (std::find(o.quantiles.begin(), o.quantiles.begin() + static_cast<std::ptrdiff_t>(k), o.quantiles[k]) !=
        o.quantiles.begin() + static_cast<std::ptrdiff_t>(k)) {
      if (report) std::cerr << "alignsim: --quantiles: " << o.quantiles[k] << " is given twice\n";
      return kBadInput;
    }
  }
  return kOk;
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

bool attach_posterior(const SimulateOptions& o, const Model& model, std::vector<std::filesystem::path>& inputs,
                      std::optional<PosteriorEnsemble>& posterior, EnsembleOptions& eo, OutputInfo& info, bool report) {
  if (o.posterior.empty()) return true;
  posterior = posterior_ensemble(o.posterior, model, o.seed, o.quiet || !report, report);
  if (!posterior) return false;
  inputs.emplace_back(o.posterior);
  eo.plan = posterior->plan.get();
  info.posterior = posterior->info;
  return true;
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

int finish_simulation(const SimulateOptions& o, OutputWriter& writer, const SummaryAccumulator& summary,
                      const std::vector<std::uint64_t>& event_count, const EnsembleResult& result,
                      std::uint64_t first_run, int months, const std::string& where) {
  if (result.interrupted && result.runs_done == 0) {
    std::cerr << "alignsim: interrupted before any " << (first_run ? "new " : "") << "run finished; "
              << (first_run ? "'" + o.out + "' is as it was\n" : std::string("nothing was written\n"));
    return kInterrupted;
  }
  const std::uint64_t runs = first_run + result.runs_done;
  if (result.interrupted) writer.keep_resume_state(summary);
  writer.finish(summary.finish(o.quantiles), event_count, runs, !result.interrupted);
  if (result.interrupted) {
    std::cerr << "alignsim: interrupted; '" << o.out << "' holds the " << runs
              << " runs finished (status \"partial\"); complete it with the same command and --resume\n";
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
  if (check_simulate_options(o) != kOk) return kBadInput;
  std::vector<std::filesystem::path> inputs;
  const auto scenario = load_or_report(o.scenario, true, &inputs);
  if (!scenario) return kBadInput;
  const Model model(*scenario);
  EnsembleOptions eo = engine_options(o);
  OutputInfo info = output_info(o, *scenario);
  std::optional<PosteriorEnsemble> posterior;
  if (!attach_posterior(o, model, inputs, posterior, eo, info)) return kBadInput;

  // Signals only ask the run to stop from here on, before any file exists, until the file is done.
  std::atomic<bool> stop{false};
  const StopSignals signals(stop);
  try {
    std::unique_ptr<PartialOutput> partial;
    if (o.resume) partial = std::make_unique<PartialOutput>(o.out, info, eo.bins);
    // Resuming replaces the partial file with its completion: that is what --resume asks for.
    OutputPath out(o.out, inputs, o.overwrite || o.resume, "--out");
    OutputWriter writer(out, *scenario, model, info);
    SummaryAccumulator summary(model.agents(), model.months(), eo.bins);
    std::vector<std::uint64_t> event_count(static_cast<std::size_t>(model.events()), 0);
    if (partial) {
      writer.copy_runs(*partial);
      eo.first_run = partial->runs_done();
      try {
        summary.restore(partial->summary());
      } catch (const std::invalid_argument&) {
        throw OutputRefused("cannot resume '" + o.out + "': its saved state is damaged (sizes that do not fit the scenario)");
      }
      if (partial->event_count().size() != event_count.size()) {
        throw OutputRefused("cannot resume '" + o.out + "': its saved event counts are damaged");
      }
      event_count = partial->event_count();
      partial.reset();
    }
    const EnsembleResult result = run_ensemble(model, eo, writer, &stop);
    summary.merge(result.summary);
    for (std::size_t e = 0; e < event_count.size(); ++e) event_count[e] += result.event_count[e];
    return finish_simulation(o, writer, summary, event_count, result, eo.first_run, model.months(), "");
  } catch (const OutputRefused& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
}

}  // namespace alignsim::app
