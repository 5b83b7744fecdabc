// alignsim: the command-line program. See `alignsim --help` and docs/.
#include <CLI/CLI.hpp>

#include <iostream>

#include "Commands.hpp"
#include "io/OutputWriter.hpp"

namespace {

std::string joined(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) out += (i ? " " : "") + std::string(argv[i]);
  return out;
}

void add_simulation_options(CLI::App* cmd, alignsim::app::SimulateOptions& o, bool parallel) {
  cmd->add_option("scenario", o.scenario, "Scenario entry file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--runs,-n", o.runs, "Number of runs")->required()->check(CLI::Range(1ULL, (1ULL << 32) - 16));
  cmd->add_option("--seed,-s", o.seed, "Random seed (a 64-bit integer)")->required();
  cmd->add_option("--out,-o", o.out, "Output file (HDF5 / netCDF-4)")->required();
  cmd->add_option("--store-runs,-k", o.store_runs,
                  parallel ? "Store W of the first K runs (default 100)" : "Store W of the first K runs (default: all)");
  cmd->add_option("--deflate", o.deflate, "Deflate level for stored trajectories, 0 (none) to 9")
      ->check(CLI::Range(0, 9))->capture_default_str();
  cmd->add_option("--quantiles", o.quantiles, "Quantile levels of the summaries")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_flag("--quiet,-q", o.quiet, "No progress or timing on stderr");
  if (parallel) {
    cmd->add_option("--threads,-t", o.threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 1024));
    cmd->add_option("--block-runs", o.block_runs, "Runs per block handed to a thread")
        ->check(CLI::Range(1, 1 << 20))->capture_default_str();
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

  alignsim::app::SimulateOptions run_options;
  run_options.threads = 1;
  run_options.store_runs = ~0ULL;
  auto* run = app.add_subcommand("run", "Simulate runs 0..N-1 on one thread and write the output file");
  add_simulation_options(run, run_options, false);

  alignsim::app::SimulateOptions ensemble_options;
  auto* ensemble = app.add_subcommand(
      "ensemble", "Simulate runs 0..N-1 in parallel, streaming to the output file (same data as `run`)");
  add_simulation_options(ensemble, ensemble_options, true);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : alignsim::app::kBadInput;
  }

  if (*validate) return alignsim::app::validate(validate_path);
  auto& options = *run ? run_options : ensemble_options;
  options.command_line = joined(argc, argv);
  return alignsim::app::simulate(options);
}
