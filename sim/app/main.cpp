// alignsim: the command-line program. See `alignsim --help` and docs/.
#include <CLI/CLI.hpp>

#include <iostream>

#include "CalibrateCommand.hpp"
#include "CliChecks.hpp"
#include "Commands.hpp"
#include "Compare.hpp"
#include "Diagnose.hpp"
#include "Export.hpp"
#include "Sensitivity.hpp"
#include "io/OutputPath.hpp"
#include "io/OutputWriter.hpp"
#ifdef ALIGNSIM_MPI
#include "MpiCommands.hpp"
#include "mpi/MpiEnsemble.hpp"
#endif

namespace {

/// The command line as the user would retype it from the repository's root: the program by its
/// name, files by their place in the repository (io/OutputPath.hpp, shown_path).
std::string joined(int argc, char** argv) {
  std::string out = "alignsim";
  for (int i = 1; i < argc; ++i) out += " " + alignsim::shown_path(argv[i]);
  return out;
}

void add_simulation_options(CLI::App* cmd, alignsim::app::SimulateOptions& o, bool parallel) {
  cmd->add_option("scenario", o.scenario, "Scenario entry file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--runs,-n", o.runs, "Number of runs")->required()->check(alignsim::app::integer_in(1, (1ULL << 32) - 16));
  cmd->add_option("--seed,-s", o.seed, "Random seed (a 64-bit integer)")->required()->check(alignsim::app::integer_in(0, ~0ULL));
  cmd->add_option("--out,-o", o.out, "Output file (HDF5 / netCDF-4); an existing file is refused unless --overwrite")
      ->required();
  cmd->add_flag("--overwrite", o.overwrite, "Replace the output file if it exists (never an input, never a read-only file)");
  cmd->add_flag("--resume", o.resume,
                "Complete the partial file --out left by an interrupted run: same scenario, seed and options");
  cmd->add_option_function<std::string>(
         "--store-runs,-k",
         [&o](const std::string& k) { o.store_runs = k == "all" ? ~0ULL : std::stoull(k); },
         parallel ? "Store W of the first K runs, or `all` (default 100)" : "Store W of the first K runs, or `all` (default)")
      ->check(CLI::Validator(
          [](const std::string& k) {
            const bool digits = !k.empty() && k.find_first_not_of("0123456789") == std::string::npos;
            return k == "all" || (digits && k.size() < 20) ? std::string() : "expected a number of runs or `all`, found '" + k + "'";
          },
          "K|all"));
  cmd->add_option("--deflate", o.deflate, "Deflate level for stored trajectories, 0 (none) to 9")
      ->check(CLI::Range(0, 9))->capture_default_str();
  cmd->add_option("--quantiles", o.quantiles, "Quantile levels of the summaries, each once")
      ->check(alignsim::app::number_in(0.0, 1.0))->capture_default_str();
  cmd->add_flag("--quiet,-q", o.quiet, "No progress or timing on stderr");
  cmd->add_option("--posterior", o.posterior,
                  "A posterior file (calibrate --posterior): run r takes the parameters of the draw addressed by "
                  "(seed, r), recorded as run_draw")
      ->check(CLI::ExistingFile);
  if (parallel) {
    cmd->add_option("--threads,-t", o.threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
    cmd->add_option("--block-runs", o.block_runs, "Runs per block handed to a thread")
        ->check(CLI::Range(1, 16384))->capture_default_str();
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"alignsim " + alignsim::OutputWriter::software_version() +
               ": simulate geopolitical alignment among agents, month by month, as ensembles of stochastic runs."};
  app.set_version_flag("--version", "alignsim " + alignsim::OutputWriter::software_version() + " (" +
                                        alignsim::OutputWriter::git_commit() + ")");
  app.require_subcommand(1);

  std::string validate_path;
  auto* validate = app.add_subcommand("validate", "Check a scenario and print what it holds, or every error in it");
  validate->add_option("scenario", validate_path, "Scenario entry file (TOML)")->required();

  std::string resolve_path;
  auto* resolve = app.add_subcommand("resolve", "Print the complete scenario, overlays applied and includes inlined, as TOML");
  resolve->add_option("scenario", resolve_path, "Scenario entry file (TOML), e.g. a counterfactual overlay")->required();

  std::string diff_a, diff_b;
  auto* diff = app.add_subcommand("diff", "List what differs between two scenarios (exit 0: nothing, 1: something)");
  diff->add_option("a", diff_a, "First scenario")->required();
  diff->add_option("b", diff_b, "Second scenario")->required();

  alignsim::app::CompareOptions compare_options;
  auto* compare = app.add_subcommand(
      "compare", "Compare a counterfactual's output with its baseline's, run by run (same seed and runs)");
  compare->add_option("base", compare_options.base, "Baseline output file")->required()->check(CLI::ExistingFile);
  compare->add_option("cf", compare_options.cf, "Counterfactual output file")->required()->check(CLI::ExistingFile);
  compare->add_option("--csv", compare_options.csv, "Also write the table as CSV to this file");
  compare->add_option("--h5", compare_options.h5, "Also write the table as group /comparison of this new HDF5 file");
  compare->add_flag("--all-events", compare_options.all_events,
                   "Print every event, not only those whose change shows at four decimals (the CSV has every event)");
  compare->add_flag("--overwrite", compare_options.overwrite, "Replace the --csv and --h5 files if they exist");
  compare->add_flag("--allow-different-base", compare_options.allow_different_base,
                    "Warn instead of refusing when the counterfactual extends a scenario other than the baseline's");

  alignsim::app::ExportOptions export_options;
  auto* exporter = app.add_subcommand(
      "export", "Write an output file as a tidy CSV table (dyad rows keyed by Correlates of War codes)");
  exporter->add_option("file", export_options.file, "Output file of `run` or `ensemble`")->required()->check(CLI::ExistingFile);
  exporter->add_option("--table", export_options.table,
                       "dyad-year, dyad-month (mean, sd, quantiles of M), events (probability, month quantiles) "
                       "or runs (each run's era means)")
      ->required()
      ->check(CLI::IsMember(alignsim::app::export_table_names()));
  exporter->add_option("--out,-o", export_options.out, "CSV file to write (default: standard output)");
  exporter->add_flag("--overwrite", export_options.overwrite, "Replace --out if it exists (never the input file)");

  alignsim::app::DiagnoseOptions diag;
  auto* diagnose = app.add_subcommand(
      "diagnose", "Whether a scenario's alignments collapse or polarise: mean |M|, saturated pairs, the spread of "
                  "positions and their distance from the anchors, year by year");
  diagnose->add_option("scenario", diag.scenario, "Scenario entry file (TOML)")->required()->check(CLI::ExistingFile);
  diagnose->add_option("--runs,-n", diag.runs, "Number of runs")
      ->capture_default_str()
      ->check(alignsim::app::integer_in(1, (1ULL << 32) - 16));
  diagnose->add_option("--seed,-s", diag.seed, "Random seed (a 64-bit integer)")
      ->capture_default_str()
      ->check(alignsim::app::integer_in(0, ~0ULL));
  diagnose->add_option("--csv", diag.csv, "Also write the table as CSV");
  diagnose->add_flag("--overwrite", diag.overwrite, "Replace the --csv file if it exists");

  alignsim::app::SensitivityOptions sens;
  auto* sensitivity = app.add_subcommand(
      "sensitivity", "Morris elementary effects or Sobol indices of the model parameters on chosen outputs (seeded, parallel)");
  sensitivity->add_option("scenario", sens.scenario, "Scenario entry file (TOML)")->required()->check(CLI::ExistingFile);
  sensitivity->add_option("--output", sens.outputs,
                          "An output: probability:EVENT_ID or mean:A-B:YYYY-MM:YYYY-MM (mean M over the months)")
      ->required();
  sensitivity->add_option("--parameter", sens.parameters,
                          "A parameter to vary, name or name=lo:hi (default: k_a, k_r, k_b, sigma, shock_scale, k_p, k_0)");
  sensitivity->add_option("--runs,-n", sens.runs, "Runs per design point")->capture_default_str()->check(alignsim::app::integer_in(16, 1ULL << 30));
  sensitivity->add_option("--seed,-s", sens.seed, "Seed of the runs and of the design")->capture_default_str()
      ->check(alignsim::app::integer_in(0, ~0ULL));
  sensitivity->add_option("--trajectories,-r", sens.trajectories, "Morris trajectories")->capture_default_str()->check(CLI::Range(2, 1000));
  sensitivity->add_option("--levels,-p", sens.levels, "Grid levels")->capture_default_str()->check(CLI::Range(2, 100));
  sensitivity->add_option("--threads,-t", sens.threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  sensitivity->add_option("--method", sens.method, "morris (elementary effects) or sobol (Saltelli's estimators)")
      ->check(CLI::IsMember({"morris", "sobol"}))->capture_default_str();
  sensitivity->add_option("--samples,-N", sens.samples, "Sobol: rows N of each base matrix; N (k + 2) design points")
      ->capture_default_str()->check(CLI::Range(8, 100000));
  sensitivity->add_option("--posterior", sens.posterior,
                          "Sobol: draw each parameter from its marginal in this posterior file (default: uniform on its range)")
      ->check(CLI::ExistingFile);
  sensitivity->add_option("--csv", sens.csv, "Also write the table as CSV");
  sensitivity->add_flag("--overwrite", sens.overwrite, "Replace the --csv file if it exists");

  alignsim::app::CalibrateCommand calibrate(app);

  alignsim::app::SimulateOptions run_options;
  run_options.threads = 1;
  run_options.store_runs = ~0ULL;
  auto* run = app.add_subcommand("run", "Simulate runs 0..N-1 on one thread and write the output file");
  add_simulation_options(run, run_options, false);

  alignsim::app::SimulateOptions ensemble_options;
  auto* ensemble = app.add_subcommand(
      "ensemble", "Simulate runs 0..N-1 in parallel, streaming to the output file (same data as `run`)");
  add_simulation_options(ensemble, ensemble_options, true);

  // A first word that names no command: say so (CLI11 would only ask for a command).
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "alignsim: unknown command '" << argv[1] << "'; the commands are " << names << "\n";
      return alignsim::app::kBadInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : alignsim::app::kBadInput;
  }

#ifdef ALIGNSIM_MPI
  // Started by mpirun or srun: the runs of `ensemble` and of each evaluation of `calibrate` are
  // split among the ranks (docs/cluster.md).
  if ((*ensemble || calibrate.chosen()) && alignsim::detail::MpiEnsemble::launched()) {
    const std::string command_line = joined(argc, argv);
    ensemble_options.command_line = command_line;
    return alignsim::app::under_mpi(
        argc, argv,
        [&](alignsim::detail::MpiEnsemble& mpi) {
          return calibrate.chosen() ? calibrate.run(command_line, &mpi)
                                    : alignsim::app::simulate_mpi(ensemble_options, mpi);
        },
        [&] { return calibrate.chosen() ? calibrate.run(command_line) : alignsim::app::simulate(ensemble_options); });
  }
#endif
  if (calibrate.chosen()) return calibrate.run(joined(argc, argv));
  if (*validate) return alignsim::app::validate(validate_path);
  if (*resolve) return alignsim::app::resolve(resolve_path);
  if (*diff) return alignsim::app::diff(diff_a, diff_b);
  if (*compare) return alignsim::app::compare(compare_options);
  if (*exporter) return alignsim::app::export_file(export_options);
  if (*sensitivity) return alignsim::app::sensitivity(sens);
  if (*diagnose) return alignsim::app::diagnose(diag);
  auto& options = *run ? run_options : ensemble_options;
  options.command_line = joined(argc, argv);
  return alignsim::app::simulate(options);
}
