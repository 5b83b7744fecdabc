#pragma once
/// `alignsim calibrate`: fits a scenario's free numbers to its targets and writes the calibrated
/// overlay and a report (docs/calibration.md). Exit codes as in Commands.hpp.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "calibrate/Calibrate.hpp"

#include "PosteriorCommand.hpp"

namespace CLI {
class App;
}

namespace alignsim {
class EnsembleParts;
}

namespace alignsim::app {

struct CalibrateOptions {
  std::string scenario;
  std::string targets;
  std::string out;     ///< the calibrated overlay to write; empty: none
  std::string report;  ///< folder for report.md and report.json; empty: none
  std::uint64_t runs = 2048;
  std::uint64_t seed = 1;
  int threads = 0;
  int max_evals = 1000;
  std::string algorithm = "sbplx";
  double initial_step = 0.1;
  double prior_weight = 0.1;
  std::vector<std::string> free;  ///< groups of free numbers (k_a, ..., b0); empty: all
  std::string fit_until;          ///< "YYYY-MM": targets looking past it are held out (not fitted); empty: none
  double hold_out = 0;            ///< a share of targets held out at random
  std::uint64_t hold_out_seed = 1;
  int profile = 0;                ///< points of each parameter's loss profile (0: none), written to the report folder
  bool quiet = false;
  bool overwrite = false;  ///< replace an existing calibrated file and report
  std::string command_line;
  /// The processes (MPI ranks) that split every evaluation's runs; null: this one alone. Every
  /// process calls calibrate() with the same options; the first one writes the files and prints.
  EnsembleParts* parts = nullptr;
};

/// Runs the calibration: 0 done, 1 a file could not be written, 2 bad scenario, targets or
/// arguments, 130 interrupted (the report is written, the calibrated file is not).
int calibrate(const CalibrateOptions& options);

/// Reads and checks the scenario and targets of a calibration (with --fit-until and --hold-out
/// applied) and its free numbers, reporting what is wrong on `err`: kOk or kBadInput. `inputs`
/// receives every file read (no output may replace one).
int read_calibration_inputs(const CalibrateOptions& options, std::ostream& err, std::optional<Scenario>& scenario,
                            std::vector<std::filesystem::path>& inputs, TargetSet& targets,
                            std::vector<FreeVariable>& variables, CalibrationOptions& co);

/// Registers the `calibrate` subcommand on the program's parser. In main():
///   alignsim::app::CalibrateCommand calibrate(app);                     // before app.parse
///   if (calibrate.chosen()) return calibrate.run(joined(argc, argv));   // after it
class CalibrateCommand {
 public:
  explicit CalibrateCommand(CLI::App& app);
  bool chosen() const;
  int run(const std::string& command_line, EnsembleParts* parts = nullptr);
  const CalibrateOptions& options() const { return options_; }

 private:
  CLI::App* command_ = nullptr;
  CalibrateOptions options_;
  PosteriorOptions posterior_;
};

}  // namespace alignsim::app
