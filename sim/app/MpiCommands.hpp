#pragma once
/// `alignsim ensemble` and `alignsim calibrate` started by an MPI launcher (mpirun, srun): every rank
/// runs the command on its share of the runs, rank 0 writes the files and prints (docs/cluster.md).
/// Built with -DALIGNSIM_MPI=ON.

#include <functional>

#include "Commands.hpp"

namespace alignsim::detail {
class MpiEnsemble;
}

namespace alignsim::app {

/// Initialises MPI, runs `command` on every rank and gives the job's exit code (the worst rank's,
/// the same on every rank). With a single rank, `alone` runs instead: the serial program.
int under_mpi(int& argc, char**& argv, const std::function<int(detail::MpiEnsemble&)>& command,
              const std::function<int()>& alone);

/// `alignsim ensemble`, split among the ranks; rank 0 writes the file.
int simulate_mpi(const SimulateOptions& options, detail::MpiEnsemble& mpi);

}  // namespace alignsim::app
