#pragma once
/// The commands of the `alignsim` program, callable without the command-line parser (tests use them).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "PosteriorEnsemble.hpp"
#include "engine/Ensemble.hpp"
#include "io/OutputWriter.hpp"
#include "scenario/Scenario.hpp"
#include "scenario/ScenarioError.hpp"

namespace alignsim::app {

/// Exit codes: 0 success, 1 a failure writing an output (nothing is left under its name), 2 bad
/// input (scenario, arguments, an output path the rule refuses: io/OutputPath.hpp), 130
/// interrupted (the output then holds the runs finished, status "partial"; if none finished,
/// nothing is written).
enum Exit : int { kOk = 0, kFailure = 1, kBadInput = 2, kInterrupted = 130 };

/// Runs `make_outputs`, which checks a command's outputs and makes their temporary files
/// (io/OutputPath) before any work, and says how the command ends if it could not: kBadInput for
/// a path the output rule refuses, kFailure for one that cannot be made, kOk when all are made.
/// The reason goes to stderr.
int prepare_outputs(const std::function<void()>& make_outputs);

/// For commands that run many small ensembles one after another (calibrate --posterior,
/// sensitivity): each ensemble allocates and frees its summaries' histograms (some 25 MB for the
/// baseline), which glibc would give back to the system each time and fault in again, most of an
/// evaluation of 128 runs. This keeps freed memory in the process instead.
void keep_freed_memory();

int validate(const std::string& scenario_path);

/// `alignsim resolve`: prints the complete scenario (overlays applied, includes inlined) as TOML.
int resolve(const std::string& scenario_path);

/// `alignsim diff A B`: what differs between two scenarios; exit 0 when nothing, 1 when something.
int diff(const std::string& a, const std::string& b);

struct SimulateOptions {
  std::string scenario;
  std::string out;
  std::uint64_t runs = 1000;
  std::uint64_t seed = 1;
  int threads = 0;
  std::uint64_t store_runs = 100;
  int block_runs = 256;
  int deflate = 1;
  bool quiet = false;
  std::vector<double> quantiles = {0.05, 0.25, 0.5, 0.75, 0.95};
  bool overwrite = false;  ///< replace an existing output file
  bool resume = false;     ///< complete the partial file `out` (same scenario, seed and options)
  std::string command_line;
  std::string posterior;  ///< a posterior file: run r takes the parameters of one of its draws; empty: none
};

/// `alignsim run` and `alignsim ensemble`: simulate and write the output file.
int simulate(const SimulateOptions& options);

/// Prints a file's errors, one `FILE:LINE: ...` line each, then how many there were in `what`
/// ("scenario", "posterior file", ...) at `path`.
void report_errors(const ScenarioError& e, const std::string& what, const std::string& path,
                   std::ostream& err = std::cerr);
/// Loads and validates a scenario; on failure prints every diagnostic (when `report`) and gives
/// nullopt. `files` receives every file read, so that no output is written over one of them.
std::optional<Scenario> load_or_report(const std::string& path, bool report = true,
                                       std::vector<std::filesystem::path>* files = nullptr);
/// Checks what the parser does not (a quantile given twice): kOk or kBadInput, said when `report`.
int check_simulate_options(const SimulateOptions& options, bool report = true);
/// The engine's options and the output file's description for a simulation's options.
EnsembleOptions engine_options(const SimulateOptions& options);
OutputInfo output_info(const SimulateOptions& options, const Scenario& scenario);
/// With `--posterior`: reads the posterior file into `posterior`, adds it to `inputs` (never written
/// over), hands its plan to the engine and its description to the output file. False, with the
/// errors printed when `report`, for a file that is not a posterior; true without `--posterior`.
bool attach_posterior(const SimulateOptions& options, const Model& model, std::vector<std::filesystem::path>& inputs,
                      std::optional<PosteriorEnsemble>& posterior, EnsembleOptions& eo, OutputInfo& info,
                      bool report = true);
/// Ends a simulation whose runs first_run .. first_run + result.runs_done - 1 are written (runs
/// before first_run: the partial file resumed, in `summary` and `event_count` with the new ones):
/// finishes the file, as partial with the summaries' state for --resume when interrupted, or
/// writes nothing when no run finished; prints how it ended and gives the exit code.
int finish_simulation(const SimulateOptions& options, OutputWriter& writer, const SummaryAccumulator& summary,
                      const std::vector<std::uint64_t>& event_count, const EnsembleResult& result,
                      std::uint64_t first_run, int months, const std::string& where);

}  // namespace alignsim::app
