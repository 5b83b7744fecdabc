#pragma once
/// The commands of the `alignsim` program, callable without the command-line parser (tests use them).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/Ensemble.hpp"
#include "io/OutputWriter.hpp"
#include "scenario/Scenario.hpp"

namespace alignsim::app {

/// Exit codes: 0 success, 1 a runtime failure (I/O), 2 bad input (scenario, arguments),
/// 130 interrupted (the output then holds the runs finished, status "partial").
enum Exit : int { kOk = 0, kFailure = 1, kBadInput = 2, kInterrupted = 130 };

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
  std::string command_line;
};

/// `alignsim run` and `alignsim ensemble`: simulate and write the output file.
int simulate(const SimulateOptions& options);

/// Loads and validates a scenario; on failure prints every diagnostic (when `report`) and gives nullopt.
std::optional<Scenario> load_or_report(const std::string& path, bool report = true);
/// The engine's options and the output file's description for a simulation's options.
EnsembleOptions engine_options(const SimulateOptions& options);
OutputInfo output_info(const SimulateOptions& options, const Scenario& scenario);
/// Prints how a simulation ended (on stderr) and gives its exit code: kInterrupted when it was.
int report_simulation(const SimulateOptions& options, const EnsembleResult& result, int months, const std::string& where);

}  // namespace alignsim::app
