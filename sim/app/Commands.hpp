#pragma once
/// The commands of the `alignsim` program, callable without the command-line parser (tests use them).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
};

/// `alignsim run` and `alignsim ensemble`: simulate and write the output file.
int simulate(const SimulateOptions& options);

}  // namespace alignsim::app
