#include "MpiCommands.hpp"

#include <tbb/info.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "io/BlockPacker.hpp"
#include "io/OutputPath.hpp"
#include "io/StopSignals.hpp"
#include "model/Model.hpp"
#include "mpi/MpiEnsemble.hpp"

namespace alignsim::app {

namespace {

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
  if (o.resume) {
    // The partial file an interrupted MPI job leaves keeps the summaries' state: one process completes it.
    if (root) {
      std::cerr << "alignsim: --resume is not supported under mpirun; complete '" << o.out
                << "' with one process (alignsim ensemble ... --resume, docs/cluster.md)\n";
    }
    return kBadInput;
  }
  if (mpi.any(check_simulate_options(o, root) != kOk)) return kBadInput;
  // Every rank reads the scenario; only rank 0 reports what is wrong with it.
  std::vector<std::filesystem::path> inputs;
  const auto scenario = load_or_report(o.scenario, root, &inputs);
  if (mpi.any(!scenario)) {
    if (root && scenario) report_other_ranks("read the scenario");
    return kBadInput;
  }
  const Model model(*scenario);
  EnsembleOptions eo = engine_options(o);
  OutputInfo info = output_info(o, *scenario);
  std::optional<PosteriorEnsemble> posterior;
  if (mpi.any(!attach_posterior(o, model, inputs, posterior, eo, info, root))) return kBadInput;

  // Signals only ask the ranks to stop from here on (mpirun passes them to every rank); rank 0
  // checks the output rule and makes the file's temporary name before any run.
  std::atomic<bool> stop{false};
  const StopSignals signals(stop);
  std::unique_ptr<OutputPath> out;
  std::unique_ptr<OutputWriter> writer;
  const int prepared = !root ? kOk : prepare_outputs([&] {
    out = std::make_unique<OutputPath>(o.out, inputs, o.overwrite, "--out");
    writer = std::make_unique<OutputWriter>(*out, *scenario, model, info);
  });
  if (mpi.any(prepared != kOk)) return prepared;  // rank 0 said why; the others end with 0

  const BlockPacker packer(model, info.runs, info.block_runs, info.deflate);
  detail::MpiEnsemble::Destination to;
  if (root) {
    to.sink = writer.get();
    to.write_packed = [&](const unsigned char* data, std::size_t size) { writer->write_packed(data, size); };
  } else {
    to.pack = [&](const RunBlock& block) { return packer.pack(block, true); };
  }

  std::optional<EnsembleResult> result;
  try {
    result.emplace(mpi.run(model, eo, to, &stop));
  } catch (const std::exception& e) {
    // The other ranks cannot finish without this one: the whole job ends, and no file is left.
    std::cerr << "alignsim: rank " << mpi.part() << ": " << e.what() << "; the job stops"
              << (root ? ", and '" + o.out + "' is not written" : std::string()) << '\n';
    writer.reset();
    out.reset();
    mpi.abort(kFailure);
  }
  if (!root) return result->interrupted ? kInterrupted : kOk;
  const int threads = o.threads > 0 ? o.threads : tbb::info::default_concurrency();
  try {
    return finish_simulation(o, *writer, result->summary, result->event_count, *result, 0, model.months(),
                             " on " + std::to_string(mpi.parts()) + " ranks x " + std::to_string(threads) +
                                 (threads == 1 ? " thread" : " threads"));
  } catch (const OutputError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  }
}

}  // namespace alignsim::app
