#pragma once
/// `alignsim diagnose SCENARIO --runs N --seed S [--csv F]`: whether a scenario's alignments collapse
/// or polarise. Per year, over runs, months and pairs: the mean |M| (M = (W_ij + W_ji) / 2), the share
/// of pairs with |M| > 0.9 (saturated), the spread of the agents' positions on each issue (their
/// standard deviation, averaged over issues) and the mean distance of positions from their anchors.
/// A world that collapses has mean |M| and the saturated share rising toward 1 and the spread toward
/// 0; one that polarises has the saturated share rising with the spread. docs/model.md shows the
/// calibrated baseline's. Runs go in batches on one thread, so the table depends only on the
/// scenario, seed and runs.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace alignsim {
class Model;
}

namespace alignsim::app {

struct DiagnoseOptions {
  std::string scenario;
  std::uint64_t runs = 1024;
  std::uint64_t seed = 1;
  std::string csv;  ///< also write the table here
  bool overwrite = false;
};

/// One year's diagnostics, averaged over its months in the horizon, the runs and the pairs (issues).
struct YearDiagnostics {
  int year{};
  double mean_abs_m{}, saturated{}, position_spread{}, anchor_gap{};
};

/// The diagnostics of runs 0 .. runs - 1 of `model` with `seed`, year by year.
std::vector<YearDiagnostics> diagnose_model(const Model& model, std::uint64_t seed, std::uint64_t runs);

/// The table as CSV: year, mean_abs_m, saturated, position_spread, anchor_gap.
void write_diagnostics_csv(const std::vector<YearDiagnostics>& rows, std::ostream& out);

int diagnose(const DiagnoseOptions& options);

}  // namespace alignsim::app
