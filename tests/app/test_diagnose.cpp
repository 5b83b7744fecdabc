// alignsim diagnose: the yearly diagnostics against sums over runs simulated one by one, and against
// values derived by hand where the dynamics leave positions where they start.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "Diagnose.hpp"
#include "model/Model.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

const std::string kMoving = "k_a = 0.08\nk_r = 0.05\nk_b = 0.05\nsigma = 0.03\nk_p = 0.05\nk_0 = 0.0";

}  // namespace

TEST_CASE("diagnose: the yearly means equal sums over runs simulated one by one") {
  const Model model(test::scenario_from(test::three_agents(kMoving, 36)));
  const int runs = 37;  // three batches, the last one partly padding
  const auto rows = app::diagnose_model(model, 5, runs);
  const auto sims = test::simulate(model, 5, 0, runs);
  REQUIRE(rows.size() == 3);
  const int n = 3, d = 2;
  for (int y = 0; y < 3; ++y) {
    CHECK(rows[static_cast<std::size_t>(y)].year == 1950 + y);
    double abs_m = 0, spread = 0;
    for (const auto& r : sims) {
      for (int t = 12 * y; t < 12 * y + 12; ++t) {
        for (int i = 0; i < n; ++i)
          for (int j = i + 1; j < n; ++j) abs_m += std::abs(0.5 * (r.at(t, i, j, n) + r.at(t, j, i, n))) / 3.0;
        for (int k = 0; k < d; ++k) {
          double mean = 0, var = 0;
          for (int i = 0; i < n; ++i) mean += r.position_at(t, i, k, n, d) / n;
          for (int i = 0; i < n; ++i) var += std::pow(r.position_at(t, i, k, n, d) - mean, 2) / n;
          spread += std::sqrt(var) / d;
        }
      }
    }
    CHECK(rows[static_cast<std::size_t>(y)].mean_abs_m == doctest::Approx(abs_m / (runs * 12)).epsilon(1e-9));
    CHECK(rows[static_cast<std::size_t>(y)].position_spread == doctest::Approx(spread / (runs * 12)).epsilon(1e-9));
  }
}

TEST_CASE("diagnose: without influence on positions they stay at their anchors, with the spread they start with") {
  const Model model(test::scenario_from(test::three_agents("k_a = 0.08\nk_r = 0.05\nk_b = 0.05\nsigma = 0.03\nk_p = 0\nk_0 = 0.05", 24)));
  const auto rows = app::diagnose_model(model, 1, 20);
  // The three agents' positions (AA, BB, CC) on ideology 1, -1, 0.2 and on security -1, 1, 0.
  const auto sd = [](double a, double b, double c) {
    const double m = (a + b + c) / 3;
    return std::sqrt(((a - m) * (a - m) + (b - m) * (b - m) + (c - m) * (c - m)) / 3);
  };
  const double spread = (sd(1, -1, 0.2) + sd(-1, 1, 0)) / 2;
  for (const auto& r : rows) {
    CHECK(r.anchor_gap == 0.0);
    CHECK(r.position_spread == doctest::Approx(spread).epsilon(1e-6));
  }
}

TEST_CASE("diagnose: the CSV has a header and one row per year") {
  std::ostringstream out;
  app::write_diagnostics_csv({{1950, 0.5, 0.25, 0.125, 0.0625}}, out);
  CHECK(out.str() == "year,mean_abs_m,saturated,position_spread,anchor_gap\n1950,0.500000,0.250000,0.125000,0.062500\n");
}
