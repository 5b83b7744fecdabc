#pragma once
/// `alignsim calibrate --posterior FILE`: the posterior calibration (ABC-SMC) of a scenario's free
/// numbers against its targets, written as a posterior file and a report (docs/calibration.md,
/// "The posterior"). Shares the scenario, targets, runs, seed, threads, free numbers, hold-out and
/// report options of `alignsim calibrate`.

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace alignsim::app {

struct CalibrateOptions;

struct PosteriorOptions {
  std::string out;               ///< the posterior file to write (CSV); empty: no posterior calibration
  std::string method = "mcmc";   ///< "mcmc" (moves by Metropolis-Hastings) or "pmc" (importance weights)
  int particles = 200;
  int generations = 12;
  double quantile = 0.5;
  double min_acceptance = 0.02;
  double tolerance = 0.0;
  int batch = 32;
  std::uint64_t default_runs = 256;  ///< runs per particle when --runs is not given
  bool serial_particles = false;     ///< one particle after the other, each ensemble on every thread
};

/// Registers the posterior options on the `calibrate` subcommand.
void add_posterior_options(CLI::App& calibrate, PosteriorOptions& options);

/// Runs the posterior calibration: 0 done, 1 a file could not be written, 2 bad input, 130
/// interrupted (the report of the last complete generation is written, the posterior file is not).
/// `runs_given`: --runs was on the command line (otherwise default_runs).
int calibrate_posterior(const CalibrateOptions& common, const PosteriorOptions& options, bool runs_given);

}  // namespace alignsim::app
