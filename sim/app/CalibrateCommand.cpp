#include "CalibrateCommand.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "CliChecks.hpp"
#include "Commands.hpp"
#include "calibrate/Calibrate.hpp"
#include "calibrate/Report.hpp"
#include "engine/EnsembleParts.hpp"
#include "io/OutputPath.hpp"
#include "io/OutputWriter.hpp"
#include "io/StopSignals.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"

namespace alignsim::app {

namespace {

std::string met_line(const Evaluation& e, const TargetSet& t) {
  char buf[240];
  std::snprintf(buf, sizeof buf, "loss %.4f, targets met %d/%zu, decisions met %d/%zu", e.loss, e.targets_met,
                t.targets.size(), e.decisions_met, t.decisions.size());
  std::string line = buf;
  if (e.held_out > 0) {
    std::snprintf(buf, sizeof buf, " (fitted %d/%d met; held out, not fitted: %d/%d met)", e.fitted_met, e.fitted,
                  e.held_out_met, e.held_out);
    line += buf;
  }
  return line;
}

/// The loss of each parameter (not the intercepts) at `points` values across its bounds, the others
/// held at the calibrated values: what the targets pin down. CSV: parameter, value, loss, fitted.
std::string profile_csv(const Scenario& calibrated, const TargetSet& targets, const std::vector<FreeVariable>& variables,
                        const std::vector<double>& values, int points, const EnsembleSpec& spec) {
  std::ostringstream csv;
  csv << "parameter,value,loss,targets_met,decisions_met,fitted_value\n";
  for (std::size_t k = 0; k < variables.size(); ++k) {
    const auto& v = variables[k];
    if (v.kind == FreeVariable::Kind::Intercept) continue;
    for (int i = 0; i < points; ++i) {
      const double x = v.lo + (v.hi - v.lo) * i / std::max(1, points - 1);
      Scenario s = calibrated;
      set_value(s, v, x);
      const Evaluation e = evaluate(s, targets, spec);
      csv << v.name << ',' << x << ',' << e.loss << ',' << e.targets_met << ',' << e.decisions_met << ',' << values[k]
          << '\n';
    }
  }
  return csv.str();
}

}  // namespace

int read_calibration_inputs(const CalibrateOptions& o, std::ostream& err, std::optional<Scenario>& scenario,
                std::vector<std::filesystem::path>& inputs, TargetSet& targets, std::vector<FreeVariable>& variables,
                CalibrationOptions& co) {
  try {
    scenario = load_scenario(o.scenario, &inputs);
  } catch (const ScenarioError& e) {
    report_errors(e, "scenario", o.scenario, err);
    return kBadInput;
  }
  try {
    targets = load_targets(o.targets, *scenario);
  } catch (const ScenarioError& e) {
    report_errors(e, "targets", o.targets, err);
    return kBadInput;
  }
  if (!o.fit_until.empty()) {
    const auto cutoff = Month::parse(o.fit_until);
    if (!cutoff) {
      err << "alignsim: --fit-until must be a month \"YYYY-MM\", found '" << o.fit_until << "'\n";
      return kBadInput;
    }
    hold_out_after(targets, *cutoff);
  }
  if (o.hold_out > 0) hold_out_random(targets, o.hold_out, o.hold_out_seed);
  try {
    variables = free_variables(*scenario, o.free);
    if (!o.fit_until.empty()) {
      // Out of sample: the intercepts of decisions after the cutoff keep their prior values.
      const Month cutoff = *Month::parse(o.fit_until);
      std::erase_if(variables, [&](const FreeVariable& v) {
        return v.kind == FreeVariable::Kind::Intercept && cutoff < scenario->events[v.event].date;
      });
    }
    co.algorithm = parse_algorithm(o.algorithm);
  } catch (const std::invalid_argument& e) {
    err << "alignsim: " << e.what() << '\n';
    return kBadInput;
  }
  if (o.runs < 1 || o.runs > (1ULL << 32) - 16 || o.max_evals < 0 || !(o.initial_step > 0 && o.initial_step <= 1) ||
      !(o.prior_weight >= 0)) {
    err << "alignsim: --runs must be in [1, 2^32 - 16], --max-evals >= 0, --initial-step in (0, 1], "
           "--prior-weight >= 0\n";
    return kBadInput;
  }
  inputs.push_back(o.targets);
  return kOk;
}

int calibrate(const CalibrateOptions& o) {
  // Under MPI every process reads the inputs and calibrates in step; the first one reports and writes.
  const bool root = !o.parts || o.parts->part() == 0;
  std::ostream muted(nullptr);
  std::optional<Scenario> scenario;
  std::vector<std::filesystem::path> inputs;
  TargetSet targets;
  std::vector<FreeVariable> variables;
  CalibrationOptions co;
  const int read = read_calibration_inputs(o, root ? std::cerr : muted, scenario, inputs, targets, variables, co);
  if (o.parts ? o.parts->any(read != kOk) : read != kOk) {
    if (read == kOk && root) std::cerr << "alignsim: another rank could not read the inputs that rank 0 read\n";
    return kBadInput;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  // Signals only ask the fit to stop from here on (the report is then written, the overlay is not);
  // the outputs are checked, and their temporary files made, before the work (by the first process).
  std::atomic<bool> stop{false};
  const StopSignals signals(stop);
  std::unique_ptr<OutputPath> overlay_out, report_md, json_out, profile_out;
  const int prepared = !root ? kOk : prepare_outputs([&] {
        if (!o.out.empty()) overlay_out = std::make_unique<OutputPath>(o.out, inputs, o.overwrite, "--out");
        if (!o.report.empty()) {
          fs::create_directories(o.report, ec);
          if (ec) throw OutputError("cannot make the folder '" + o.report + "': " + ec.message());
          report_md = std::make_unique<OutputPath>(fs::path(o.report) / "report.md", inputs, o.overwrite, "--report");
          json_out = std::make_unique<OutputPath>(fs::path(o.report) / "report.json", inputs, o.overwrite, "--report");
          if (o.profile > 0) {
            profile_out = std::make_unique<OutputPath>(fs::path(o.report) / "profile.csv", inputs, o.overwrite, "--report");
          }
        }
      });
  if (o.parts ? o.parts->any(prepared != kOk) : prepared != kOk) return root ? prepared : kOk;  // rank 0 said why

  co.ensemble.runs = o.runs;
  co.ensemble.seed = o.seed;
  co.ensemble.threads = o.threads;
  co.ensemble.parts = o.parts;
  co.max_evals = o.max_evals;
  co.initial_step = o.initial_step;
  co.prior_weight = o.prior_weight;
  co.stop = &stop;
  // Under MPI, a signal to any process stops them all after the same evaluation.
  std::atomic<bool> agreed_stop{false};
  if (o.parts) co.stop = &agreed_stop;
  const bool verbose = !o.quiet && root;
  if (verbose) {
    std::cerr << "alignsim: calibrating " << variables.size() << " free numbers of '" << scenario->name << "' to "
              << targets.targets.size() << " targets and " << targets.decisions.size() << " decisions; "
              << o.runs << " runs per evaluation, seed " << o.seed << ", " << algorithm_name(co.algorithm)
              << ", at most " << o.max_evals << " evaluations\n";
  }
  co.on_evaluation = [&](int k, const Evaluation& e, double objective, double best) {
    if (o.parts) agreed_stop.store(o.parts->any(stop.load()));
    if (!verbose) return;
    std::fprintf(stderr,
                 "  evaluation %4d: objective %8.5f (best %8.5f), loss %8.5f, targets met %2d/%zu, decisions met %2d/%zu\n",
                 k, objective, best, e.loss, e.targets_met, targets.targets.size(), e.decisions_met,
                 targets.decisions.size());
  };

  const CalibrationResult result = alignsim::calibrate(*scenario, targets, variables, co);

  ReportInfo info;
  info.scenario_path = o.scenario;
  info.targets_path = o.targets;
  info.command_line = o.command_line;
  info.software = "alignsim " + OutputWriter::software_version() + " (" + OutputWriter::git_commit() + ")";
  info.options = co;
  Scenario calibrated = *scenario;
  for (std::size_t k = 0; k < variables.size(); ++k) {
    info.final_values.push_back(rounded(variables[k], result.best[k]));
    set_value(calibrated, variables[k], info.final_values.back());
  }
  info.final_evaluation = evaluate(calibrated, targets, co.ensemble);
  // The profile's evaluations, like the ones above, are split among the processes: all take part.
  const std::string profile = o.report.empty() || o.profile <= 0 || result.interrupted
                                  ? std::string()
                                  : profile_csv(calibrated, targets, variables, info.final_values, o.profile, co.ensemble);
  if (!root) return result.interrupted ? kInterrupted : kOk;
  EnsembleSpec alone = co.ensemble;  // the check below runs in this process only
  alone.parts = nullptr;

  if (!o.out.empty() && !result.interrupted) {
    const fs::path out(o.out);
    const fs::path base_dir = fs::absolute(out).parent_path();
    const std::string extends = fs::relative(fs::absolute(o.scenario), base_dir, ec).generic_string();
    std::string header = "The calibrated '" + scenario->name + "' scenario, written by `alignsim calibrate`; do not edit by hand,\n" +
                         "run the calibration again (docs/calibration.md):\n  " + o.command_line + "\n" +
                         "Start: " + met_line(result.start, targets) + ".\n" + "Calibrated: " +
                         met_line(info.final_evaluation, targets) + " (" + std::to_string(o.runs) + " runs, seed " +
                         std::to_string(o.seed) + ").";
    if (!o.report.empty()) header += "\nReport: " + (fs::path(o.report) / "report.md").generic_string();
    info.overlay_path = o.out;
    // The file as written must give what was evaluated: it is loaded back from its temporary name
    // (in the same folder, so `extends` reaches the same base) and checked before it is committed.
    try {
      overlay_out->write(
          overlay_toml(*scenario, variables, info.final_values, extends.empty() ? o.scenario : extends, header));
      const Scenario reloaded = load_scenario(overlay_out->temp_path());
      const Evaluation check = evaluate(reloaded, targets, alone);
      if (check.loss != info.final_evaluation.loss) {
        std::cerr << "alignsim: the calibrated file '" << o.out << "' gives loss " << check.loss << ", not "
                  << info.final_evaluation.loss << "; the report shows the file's\n";
        info.final_evaluation = check;
      }
      overlay_out->commit();
    } catch (const ScenarioError& e) {
      report_errors(e, "the calibrated file", o.out);
      return kFailure;
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
      return kFailure;
    }
  }

  if (report_md) {
    try {
      write_text_output(*report_md, report_markdown(*scenario, targets, result, info));
      write_text_output(*json_out, report_json(*scenario, targets, result, info));
      if (profile_out && !result.interrupted) write_text_output(*profile_out, profile);
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
      return kFailure;
    }
  }

  std::cout << "calibration of '" << scenario->name << "': " << result.evaluations << " evaluations in "
            << result.seconds << " s, stopped by " << result.stop_reason << "\n";
  std::cout << "  before: " << met_line(result.start, targets) << "\n";
  std::cout << "  after:  " << met_line(info.final_evaluation, targets) << "\n";
  for (std::size_t k = 0; k < variables.size(); ++k) {
    std::cout << "  " << variables[k].name << " = " << info.final_values[k] << " (was " << value_of(*scenario, variables[k])
              << ")\n";
  }
  if (!info.overlay_path.empty()) std::cout << "wrote " << info.overlay_path << "\n";
  if (!o.report.empty()) std::cout << "wrote " << (fs::path(o.report) / "report.md").string() << " and report.json\n";
  if (result.interrupted) {
    std::cerr << "alignsim: interrupted; the calibrated file was not written\n";
    return kInterrupted;
  }
  return kOk;
}

CalibrateCommand::CalibrateCommand(CLI::App& app) {
  auto& o = options_;
  command_ = app.add_subcommand(
      "calibrate", "Fit the model parameters and decision intercepts to the targets; write the calibrated overlay and a report");
  command_->add_option("scenario", o.scenario, "Scenario entry file (TOML)")->required()->check(CLI::ExistingFile);
  command_->add_option("--targets", o.targets, "Targets file (TOML)")->required()->check(CLI::ExistingFile);
  command_->add_option("--out,-o", o.out, "Calibrated overlay to write (TOML extending the scenario)");
  command_->add_option("--report", o.report, "Folder for report.md and report.json");
  command_->add_flag("--overwrite", o.overwrite, "Replace the calibrated file and the report's files if they exist");
  command_->add_option("--runs,-n", o.runs, "Runs per evaluation")->check(integer_in(1, (1ULL << 32) - 16))->capture_default_str();
  command_->add_option("--seed,-s", o.seed, "Random seed of every evaluation (common random numbers)")
      ->capture_default_str()->check(integer_in(0, ~0ULL));
  command_->add_option("--max-evals", o.max_evals, "Ensembles the optimiser may run (0: evaluate the scenario only)")
      ->check(CLI::Range(0, 1000000))->capture_default_str();
  command_->add_option("--algorithm", o.algorithm, "NLopt local derivative-free algorithm")
      ->check(CLI::IsMember({"sbplx", "bobyqa", "neldermead", "cobyla"}))->capture_default_str();
  command_->add_option("--initial-step", o.initial_step, "First step, as a share of each free number's range")
      ->check(CLI::Range(1e-6, 1.0))->capture_default_str();
  command_->add_option("--prior-weight", o.prior_weight,
                       "Weight of the pull toward the starting values (0: targets only)")
      ->check(CLI::Range(0.0, 1e6))->capture_default_str();
  command_->add_option("--free", o.free, "Free numbers to fit (default: all): any parameter of the scenario format (k_a, ..., response_force) and b0 (every decision's intercept)")
      ->check(CLI::IsMember(free_variable_groups()))->delimiter(',');
  command_->add_option("--fit-until", o.fit_until,
                       "Fit only the targets that end by this month (YYYY-MM); report the later ones as held out");
  command_->add_option("--hold-out", o.hold_out, "Hold out this share of the targets, drawn at random (not fitted)")
      ->check(CLI::Range(0.0, 0.9));
  command_->add_option("--hold-out-seed", o.hold_out_seed, "Seed of the random hold-out")->capture_default_str();
  command_->add_option("--profile", o.profile,
                       "Also write profile.csv in the report folder: the loss at this many values of each parameter")
      ->check(CLI::Range(0, 1000));
  command_->add_option("--threads,-t", o.threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  command_->add_flag("--quiet,-q", o.quiet, "No progress on stderr");
  add_posterior_options(*command_, posterior_);
}

bool CalibrateCommand::chosen() const { return command_ && command_->parsed(); }

int CalibrateCommand::run(const std::string& command_line, EnsembleParts* parts) {
  options_.command_line = command_line;
  options_.parts = parts;
  if (!posterior_.out.empty()) return calibrate_posterior(options_, posterior_, command_->count("--runs") > 0);
  return calibrate(options_);
}

}  // namespace alignsim::app
