#include "PosteriorCommand.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "CalibrateCommand.hpp"
#include "Commands.hpp"
#include "calibrate/Abc.hpp"
#include "calibrate/PosteriorReport.hpp"
#include "calibrate/Priors.hpp"
#include "engine/EnsembleParts.hpp"
#include "io/OutputPath.hpp"
#include "io/OutputWriter.hpp"
#include "io/StopSignals.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"

namespace alignsim::app {

namespace fs = std::filesystem;

void add_posterior_options(CLI::App& calibrate, PosteriorOptions& o) {
  calibrate.add_option("--posterior", o.out,
                       "Calibrate a posterior instead of a point (ABC-SMC): write its weighted parameter sets to this "
                       "CSV file (it must not exist), the report to --report");
  calibrate.add_option("--method", o.method,
                       "Posterior: how a generation moves the population: mcmc (Drovandi and Pettitt 2011) or pmc "
                       "(Beaumont et al. 2009; for a few free numbers only)")
      ->check(CLI::IsMember({"mcmc", "pmc"}))->capture_default_str();
  calibrate.add_option("--particles", o.particles, "Posterior: particles (weighted parameter sets) of the population")
      ->check(CLI::Range(2, 100000))->capture_default_str();
  calibrate.add_option("--generations", o.generations, "Posterior: at most this many populations, the first from the prior")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  calibrate.add_option("--quantile", o.quantile,
                       "Posterior: each tolerance is this weighted quantile of the previous population's losses")
      ->check(CLI::Range(0.01, 0.99))->capture_default_str();
  calibrate.add_option("--min-acceptance", o.min_acceptance,
                       "Posterior: stop when a generation would accept fewer than this share of its proposals")
      ->check(CLI::Range(1e-6, 1.0))->capture_default_str();
  calibrate.add_option("--tolerance", o.tolerance, "Posterior: stop once the tolerance (a loss) is at or below this")
      ->check(CLI::Range(0.0, 1e9))->capture_default_str();
  calibrate.add_option("--batch", o.batch, "Posterior: proposals simulated together (the result does not depend on it)")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  calibrate.add_flag("--serial-particles", o.serial_particles,
                     "Posterior: simulate one particle at a time on every thread, not one particle per thread "
                     "(the same result)");
}

int calibrate_posterior(const CalibrateOptions& c, const PosteriorOptions& o, bool runs_given) {
  // Under MPI every process runs the same ABC-SMC, each ensemble split among them; the first one
  // reports and writes.
  const bool root = !c.parts || c.parts->part() == 0;
  std::ostream muted(nullptr);
  std::ostream& err = root ? std::cerr : muted;
  std::optional<Scenario> scenario;
  std::vector<fs::path> inputs;
  TargetSet targets;
  std::vector<FreeVariable> fitted_variables;
  CalibrationOptions unused;
  std::vector<Prior> priors;
  int read = read_calibration_inputs(c, err, scenario, inputs, targets, fitted_variables, unused);
  if (read == kOk) {
    try {
      // Every free number keeps its prior, also the intercepts of decisions after --fit-until: the
      // targets then say nothing of them, and the posterior carries their prior uncertainty.
      priors = load_priors(c.targets, *scenario, free_variables(*scenario, c.free));
      if (priors.empty()) {
        err << "alignsim: no free numbers: every one is fixed by --free or by the priors\n";
        read = kBadInput;
      }
    } catch (const ScenarioError& e) {
      if (root) report_errors(e, "the priors of the targets file", c.targets);
      read = kBadInput;
    } catch (const std::invalid_argument& e) {
      err << "alignsim: " << e.what() << '\n';
      read = kBadInput;
    }
  }
  if (c.parts ? c.parts->any(read != kOk) : read != kOk) return kBadInput;

  // The outputs are checked, and their temporary files made, before the work (by the first process).
  std::unique_ptr<OutputPath> posterior_out, report_md, report_json;
  const int prepared = !root ? kOk : prepare_outputs([&] {
        posterior_out = std::make_unique<OutputPath>(o.out, inputs, c.overwrite, "--posterior");
        if (!c.report.empty()) {
          std::error_code ec;
          fs::create_directories(c.report, ec);
          if (ec) throw OutputError("cannot make the folder '" + c.report + "': " + ec.message());
          report_md = std::make_unique<OutputPath>(fs::path(c.report) / "posterior.md", inputs, c.overwrite, "--report");
          report_json = std::make_unique<OutputPath>(fs::path(c.report) / "posterior.json", inputs, c.overwrite, "--report");
        }
      });
  if (c.parts ? c.parts->any(prepared != kOk) : prepared != kOk) return root ? prepared : kOk;  // rank 0 said why

  AbcOptions ao;
  ao.method = parse_abc_method(o.method);
  ao.particles = o.particles;
  ao.runs = runs_given ? c.runs : o.default_runs;
  ao.seed = c.seed;
  ao.threads = c.threads;
  ao.generations = o.generations;
  ao.quantile = o.quantile;
  ao.min_acceptance = o.min_acceptance;
  ao.tolerance = o.tolerance;
  ao.batch = o.batch;
  ao.parallel_particles = !o.serial_particles;
  ao.parts = c.parts;
  std::atomic<bool> stop{false};
  const StopSignals signals(stop);
  ao.stop = &stop;
  keep_freed_memory();
  const bool verbose = !c.quiet && root;
  if (verbose) {
    std::cerr << "alignsim: posterior of " << priors.size() << " free numbers of '" << scenario->name << "' by ABC-SMC ("
              << o.method << "), "
              << ao.particles << " particles of " << ao.runs << " runs, seed " << ao.seed << ", against "
              << targets.targets.size() << " targets and " << targets.decisions.size() << " decisions\n";
  }
  const auto progress = [&](const AbcGeneration& g, const AbcResult&) {
    if (!verbose) return;
    std::fprintf(stderr,
                 "  generation %2d: tolerance %10.4f, %6llu proposals (%llu outside the prior), %llu ensembles, "
                 "acceptance %.3f, %d steps, ESS %6.1f, %d distinct, loss %.4f..%.4f, %.0f s\n",
                 g.index, g.tolerance, static_cast<unsigned long long>(g.proposals),
                 static_cast<unsigned long long>(g.outside_prior), static_cast<unsigned long long>(g.simulated),
                 g.acceptance, g.steps, g.ess, g.distinct, g.loss_min, g.loss_max, g.seconds);
  };

  AbcResult result;
  try {
    result = abc_smc(*scenario, targets, priors, ao, progress);
  } catch (const std::invalid_argument& e) {
    err << "alignsim: " << e.what() << '\n';
    return kBadInput;
  }
  if (result.generations.empty()) {
    err << "alignsim: " << result.stop_reason << "; nothing written\n";
    return result.interrupted ? kInterrupted : kFailure;
  }
  if (verbose) std::cerr << "alignsim: " << result.stop_reason << "; the posterior predictive check\n";
  // An interrupted calibration reports its last complete population without a predictive check.
  const PredictiveCheck check = result.interrupted ? PredictiveCheck{}
                                                   : predictive_check(*scenario, targets, result, ao.runs, ao.seed,
                                                                      ao.threads, ao.parallel_particles, ao.parts);
  if (!root) return result.interrupted ? kInterrupted : kOk;

  PosteriorReportInfo info;
  info.scenario_path = c.scenario;
  info.targets_path = c.targets;
  info.command_line = c.command_line;
  info.software = "alignsim " + OutputWriter::software_version() + " (" + OutputWriter::git_commit() + ")";
  info.options = ao;
  const auto& last = result.generations.back();
  if (!result.interrupted) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "generations: %zu, final tolerance %.6g, effective sample size %.1f; %llu ensembles of %llu runs",
                  result.generations.size(), last.tolerance, effective_sample_size(result.weights),
                  static_cast<unsigned long long>(result.simulations), static_cast<unsigned long long>(ao.runs));
    std::vector<std::string> comments = {
        "alignsim posterior: " + std::to_string(result.values.size()) +
            " weighted parameter sets from ABC-SMC (docs/calibration.md, \"The posterior file\")",
        "scenario: " + scenario->name + " (" + shown_path(c.scenario) + ")",
        "targets and priors: " + shown_path(c.targets),
        "command: " + c.command_line,
        "software: " + info.software,
        line};
    for (const auto& p : result.priors) comments.push_back("prior " + p.variable.name + ": " + p.describe());
    comments.push_back("columns: draw (0..K-1), weight (sums to 1), loss (the targets' loss when accepted), then one per free number");
    info.posterior_path = shown_path(o.out);
    try {
      write_text_output(*posterior_out, posterior_csv(to_posterior(result, comments)));
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
      return kFailure;
    }
  }
  try {
    if (report_md) {
      write_text_output(*report_md, posterior_report_markdown(*scenario, targets, result, check, info));
      write_text_output(*report_json, posterior_report_json(*scenario, targets, result, check, info));
    }
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
  std::cout << "posterior of '" << scenario->name << "': " << result.generations.size() << " generations, "
            << result.simulations << " ensembles of " << ao.runs << " runs in " << std::lround(result.seconds)
            << " s; final tolerance " << last.tolerance << ", acceptance " << last.acceptance
            << ", effective sample size " << effective_sample_size(result.weights) << "\n";
  std::cout << "  posterior predictive coverage (90% interval meets the band): fitted " << check.fitted_covered << "/"
            << check.fitted;
  if (check.held_out > 0) std::cout << ", held out " << check.held_out_covered << "/" << check.held_out;
  std::cout << "\n";
  if (!info.posterior_path.empty()) std::cout << "wrote " << info.posterior_path << "\n";
  if (!c.report.empty()) std::cout << "wrote " << (fs::path(c.report) / "posterior.md").string() << " and posterior.json\n";
  if (result.interrupted) {
    std::cerr << "alignsim: interrupted; the posterior file was not written\n";
    return kInterrupted;
  }
  return kOk;
}

}  // namespace alignsim::app
