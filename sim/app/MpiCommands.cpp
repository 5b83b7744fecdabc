#include "MpiCommands.hpp"

#include <tbb/info.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

#include "io/BlockPacker.hpp"
#include "model/Model.hpp"
#include "mpi/MpiEnsemble.hpp"

namespace alignsim::app {

namespace {

std::atomic<bool> g_mpi_stop{false};

extern "C" void on_mpi_signal(int) { g_mpi_stop.store(true); }

/// Rank 0's line when another rank could not do what rank 0 did (read an input, say).
void report_other_ranks(const std::string& what) {
  std::cerr << "alignsim: another rank could not " << what
            << " that rank 0 could; every rank needs the same files (a shared file system)\n";
}

}  // namespace

int under_mpi(int& argc, char**& argv, const std::function<int(detail::MpiEnsemble&)>& command,
              const std::function<int()>& alone) {
  std::unique_ptr<detail::MpiEnsemble> mpi;
  try {
    mpi = std::make_unique<detail::MpiEnsemble>(argc, argv);
  } catch (const detail::MpiError& e) {
    std::cerr << "alignsim: cannot start MPI: " << e.what() << '\n';
    return kFailure;
  }
  if (mpi->parts() == 1) return alone();
  try {
    return mpi->agree(command(*mpi));
  } catch (const std::exception& e) {
    std::cerr << "alignsim: rank " << mpi->part() << ": " << e.what() << "; the job stops\n";
    mpi->abort(kFailure);
  }
}

int simulate_mpi(const SimulateOptions& o, detail::MpiEnsemble& mpi) {
  const bool root = mpi.root();
  // Every rank reads the scenario; only rank 0 reports what is wrong with it.
  const auto scenario = load_or_report(o.scenario, root);
  if (mpi.any(!scenario)) {
    if (root && scenario) report_other_ranks("read the scenario");
    return kBadInput;
  }
  const Model model(*scenario);
  const EnsembleOptions eo = engine_options(o);
  const OutputInfo info = output_info(o, *scenario);

  std::unique_ptr<OutputWriter> writer;
  if (root) {
    try {
      writer = std::make_unique<OutputWriter>(o.out, *scenario, model, info);
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
    }
  }
  if (mpi.any(root && !writer)) return kFailure;

  const BlockPacker packer(model, info.runs, info.block_runs, info.deflate);
  detail::MpiEnsemble::Destination to;
  if (root) {
    to.sink = writer.get();
    to.write_packed = [&](const unsigned char* data, std::size_t size) { writer->write_packed(data, size); };
  } else {
    to.pack = [&](const RunBlock& block) { return packer.pack(block, true); };
  }

  g_mpi_stop.store(false);
  auto previous_int = std::signal(SIGINT, on_mpi_signal);
  auto previous_term = std::signal(SIGTERM, on_mpi_signal);
  std::optional<EnsembleResult> result;
  try {
    result.emplace(mpi.run(model, eo, to, &g_mpi_stop));
  } catch (const std::exception& e) {
    // The other ranks cannot finish without this one: the whole job ends, and no file is left.
    std::cerr << "alignsim: rank " << mpi.part() << ": " << e.what() << "; the job stops"
              << (root ? ", and '" + o.out + "' is not written" : std::string()) << '\n';
    writer.reset();
    mpi.abort(kFailure);
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  if (!root) return kOk;
  try {
    writer->finish(result->summary.finish(o.quantiles), result->event_count, result->runs_done, !result->interrupted);
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
  const int threads = o.threads > 0 ? o.threads : tbb::info::default_concurrency();
  return report_simulation(o, *result, model.months(),
                           " on " + std::to_string(mpi.parts()) + " ranks x " + std::to_string(threads) +
                               (threads == 1 ? " thread" : " threads"));
}

}  // namespace alignsim::app
