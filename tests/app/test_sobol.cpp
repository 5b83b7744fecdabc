// Saltelli's estimators (sim/app/SobolIndex.hpp) against the analytic indices of test functions.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "app/SobolIndex.hpp"

using alignsim::app::sobol_index;

namespace {

/// f(A), f(B), f(A_B^i) for every factor, with N rows of k uniforms on [lo, hi].
struct Design {
  std::vector<double> fa, fb;
  std::vector<std::vector<double>> fab;  // [factor][row]
};

template <class F>
Design design(F f, std::size_t k, std::size_t n, double lo, double hi, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  Design d;
  d.fab.assign(k, {});
  for (std::size_t j = 0; j < n; ++j) {
    std::vector<double> a(k), b(k);
    for (auto& x : a) x = u(gen);
    for (auto& x : b) x = u(gen);
    d.fa.push_back(f(a));
    d.fb.push_back(f(b));
    for (std::size_t i = 0; i < k; ++i) {
      auto ab = a;
      ab[i] = b[i];
      d.fab[i].push_back(f(ab));
    }
  }
  return d;
}

std::vector<std::size_t> all_rows(std::size_t n) {
  std::vector<std::size_t> rows(n);
  for (std::size_t j = 0; j < n; ++j) rows[j] = j;
  return rows;
}

}  // namespace

TEST_CASE("Sobol indices: an additive function's are its terms' shares of the variance, first equal to total") {
  // f = 1000 + 1 x1 + 2 x2 + 3 x3 on [0, 1]^3: S_i = ST_i = c_i^2 / 14 (the large mean tests the centring).
  const auto d = design([](const std::vector<double>& x) { return 1000 + x[0] + 2 * x[1] + 3 * x[2]; }, 3, 20000, 0, 1, 7);
  const auto rows = all_rows(d.fa.size());
  const double expected[] = {1.0 / 14, 4.0 / 14, 9.0 / 14};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto s = sobol_index(d.fa, d.fb, d.fab[i], rows);
    CHECK(std::abs(s.first - expected[i]) < 0.03);
    CHECK(std::abs(s.total - expected[i]) < 0.02);
  }
}

TEST_CASE("Sobol indices: the Ishigami function's analytic first-order and total indices") {
  // f = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 on [-pi, pi]^3 (Ishigami and Homma 1990):
  // S = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
  const double pi = std::numbers::pi;
  const auto d = design(
      [](const std::vector<double>& x) {
        return std::sin(x[0]) + 7 * std::sin(x[1]) * std::sin(x[1]) + 0.1 * std::pow(x[2], 4) * std::sin(x[0]);
      },
      3, 40000, -pi, pi, 11);
  const auto rows = all_rows(d.fa.size());
  const double first[] = {0.3139, 0.4424, 0.0}, total[] = {0.5576, 0.4424, 0.2437};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto s = sobol_index(d.fa, d.fb, d.fab[i], rows);
    CHECK(std::abs(s.first - first[i]) < 0.03);
    CHECK(std::abs(s.total - total[i]) < 0.03);
  }
}

TEST_CASE("Sobol indices: an output that does not vary has none") {
  const auto d = design([](const std::vector<double>&) { return 0.25; }, 2, 100, 0, 1, 3);
  const auto s = sobol_index(d.fa, d.fb, d.fab[0], all_rows(100));
  CHECK(std::isnan(s.first));
  CHECK(std::isnan(s.total));
}
