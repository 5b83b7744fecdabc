#include "Diagnose.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "Commands.hpp"
#include "io/OutputPath.hpp"
#include "model/Batch.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"

namespace alignsim::app {

namespace {

/// Sums, per month, over the valid lanes of each batch, in run order.
class DiagnosticsObserver final : public BatchObserver {
 public:
  explicit DiagnosticsObserver(const Model& m)
      : n_(m.agents()), d_(m.issues()), sums_(static_cast<std::size_t>(m.months()), YearDiagnostics{}) {}

  void set_valid(int valid) { valid_ = valid; }

  void on_month(int t, const BatchState& s) override {
    auto& row = sums_[static_cast<std::size_t>(t)];
    for (int l = 0; l < valid_; ++l) {
      double abs_m = 0, saturated = 0;
      for (int i = 0; i < n_; ++i) {
        for (int j = i + 1; j < n_; ++j) {
          const double m = 0.5 * (static_cast<double>(s.W[i * n_ + j][l]) + s.W[j * n_ + i][l]);
          abs_m += std::abs(m);
          saturated += std::abs(m) > 0.9 ? 1.0 : 0.0;
        }
      }
      const double pairs = n_ * (n_ - 1) / 2.0;
      row.mean_abs_m += abs_m / pairs;
      row.saturated += saturated / pairs;
      double spread = 0, gap = 0;
      for (int d = 0; d < d_; ++d) {
        double mean = 0;
        for (int i = 0; i < n_; ++i) mean += s.position[i * d_ + d][l];
        mean /= n_;
        double var = 0;
        for (int i = 0; i < n_; ++i) {
          const double x = s.position[i * d_ + d][l];
          var += (x - mean) * (x - mean);
          gap += std::abs(x - static_cast<double>(s.anchor[i * d_ + d][l]));
        }
        spread += std::sqrt(var / n_);
      }
      row.position_spread += spread / d_;
      row.anchor_gap += gap / (n_ * d_);
    }
  }

  const std::vector<YearDiagnostics>& sums() const { return sums_; }

 private:
  int n_, d_;
  int valid_ = 0;
  std::vector<YearDiagnostics> sums_;  ///< per month
};

}  // namespace

std::vector<YearDiagnostics> diagnose_model(const Model& model, std::uint64_t seed, std::uint64_t runs) {
  DiagnosticsObserver observer(model);
  BatchState state(model);
  for (std::uint64_t first = 0; first < runs; first += kLanes) {
    const int valid = static_cast<int>(std::min<std::uint64_t>(kLanes, runs - first));
    observer.set_valid(valid);
    simulate_batch(model, seed, first, valid, state, observer);
  }
  std::vector<YearDiagnostics> years;
  std::vector<int> months_in;
  for (int t = 0; t < model.months(); ++t) {
    const int year = (model.parameters().start + t).year();
    if (years.empty() || years.back().year != year) {
      years.push_back(YearDiagnostics{year, 0, 0, 0, 0});
      months_in.push_back(0);
    }
    const auto& m = observer.sums()[static_cast<std::size_t>(t)];
    auto& y = years.back();
    y.mean_abs_m += m.mean_abs_m;
    y.saturated += m.saturated;
    y.position_spread += m.position_spread;
    y.anchor_gap += m.anchor_gap;
    ++months_in.back();
  }
  for (std::size_t k = 0; k < years.size(); ++k) {
    const double count = static_cast<double>(runs) * months_in[k];
    years[k].mean_abs_m /= count;
    years[k].saturated /= count;
    years[k].position_spread /= count;
    years[k].anchor_gap /= count;
  }
  return years;
}

void write_diagnostics_csv(const std::vector<YearDiagnostics>& rows, std::ostream& out) {
  out << "year,mean_abs_m,saturated,position_spread,anchor_gap\n";
  char line[160];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f\n", r.year, r.mean_abs_m, r.saturated, r.position_spread,
                  r.anchor_gap);
    out << line;
  }
}

int diagnose(const DiagnoseOptions& o) {
  std::vector<std::filesystem::path> inputs;
  Scenario scenario;
  try {
    scenario = load_scenario(o.scenario, &inputs);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return kBadInput;
  }
  std::unique_ptr<OutputPath> csv_out;
  if (const int status = prepare_outputs([&] {
        if (!o.csv.empty()) csv_out = std::make_unique<OutputPath>(o.csv, inputs, o.overwrite, "--csv");
      })) {
    return status;
  }
  const Model model(scenario);
  std::ostringstream table;
  write_diagnostics_csv(diagnose_model(model, o.seed, o.runs), table);
  std::cout << table.str();
  if (csv_out) {
    try {
      write_text_output(*csv_out, table.str());
    } catch (const OutputError& e) {
      std::cerr << "alignsim: " << e.what() << '\n';
      return kFailure;
    }
  }
  return kOk;
}

}  // namespace alignsim::app
