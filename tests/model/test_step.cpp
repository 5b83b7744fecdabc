// The monthly step of docs/model.md, term by term, against hand computations.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "model/Model.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

constexpr int AA = 0, BB = 1, CC = 2;

/// Initial alignment lines for the three-agent scenario.
const std::string kStart = R"(
[[initial_alignment]]
from = "AA"
to = "BB"
value = 0.2
[[initial_alignment]]
from = "BB"
to = "AA"
value = 0.4
[[initial_alignment]]
from = "AA"
to = "CC"
value = 0.6
[[initial_alignment]]
from = "CC"
to = "AA"
value = -0.5
[[initial_alignment]]
from = "BB"
to = "CC"
value = -0.3
[[initial_alignment]]
from = "CC"
to = "BB"
value = 0.7
)";
const double W0[3][3] = {{0, 0.2, 0.6}, {0.4, 0, -0.3}, {-0.5, 0.7, 0}};
// A[i][j] = 1 - sum_d s[i,d] |p[i,d] - p[j,d]| for the interests of test::three_agents:
// AA (1, -1; .6, .4), BB (-1, 1; .7, .3), CC (.2, 0; .5, .5).
const double A[3][3] = {{0, 1 - (0.6 * 2 + 0.4 * 2), 1 - (0.6 * 0.8 + 0.4 * 1)},
                        {1 - (0.7 * 2 + 0.3 * 2), 0, 1 - (0.7 * 1.2 + 0.3 * 1)},
                        {1 - (0.5 * 0.8 + 0.5 * 1), 1 - (0.5 * 1.2 + 0.5 * 1), 0}};

test::Run one_run(const std::string& toml) {
  const Model model(test::scenario_from(toml));
  return test::simulate(model, 1, 0, 1)[0];
}

}  // namespace

TEST_CASE("affinity: the S-score with the agent's own saliences, against hand values") {
  const auto run = one_run(test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0"));
  CHECK(A[AA][BB] == doctest::Approx(-1.0));
  CHECK(A[AA][CC] == doctest::Approx(0.12));
  CHECK(A[CC][AA] == doctest::Approx(0.10));
  CHECK(A[BB][CC] == doctest::Approx(-0.14));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i != j) CHECK(run.at(0, i, j, 3) == doctest::Approx(A[i][j]).epsilon(1e-6));
    }
  }
}

TEST_CASE("affinity: saliences are normalised per agent") {
  std::string toml = test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0");
  toml.replace(toml.find("salience = 0.6"), 14, "salience = 6.0");
  toml.replace(toml.find("salience = 0.4"), 14, "salience = 4.0");
  const auto run = one_run(toml);
  CHECK(run.at(0, AA, CC, 3) == doctest::Approx(0.12).epsilon(1e-6));
}

TEST_CASE("interest pull alone moves W toward A at rate k_a") {
  const auto run = one_run(test::three_agents("k_a = 0.1\nk_r = 0\nk_b = 0\nsigma = 0") + kStart);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i == j) continue;
      const double w1 = W0[i][j] + 0.1 * (A[i][j] - W0[i][j]);
      CHECK(run.at(0, i, j, 3) == doctest::Approx(w1).epsilon(1e-6));
      const double w2 = w1 + 0.1 * (A[i][j] - w1);
      CHECK(run.at(1, i, j, 3) == doctest::Approx(w2).epsilon(1e-6));
    }
  }
}

TEST_CASE("reciprocity alone moves W[i,j] toward W[j,i] at rate k_r") {
  const auto run = one_run(test::three_agents("k_a = 0\nk_r = 0.25\nk_b = 0\nsigma = 0") + kStart);
  CHECK(run.at(0, AA, BB, 3) == doctest::Approx(0.2 + 0.25 * (0.4 - 0.2)));
  CHECK(run.at(0, BB, AA, 3) == doctest::Approx(0.4 + 0.25 * (0.2 - 0.4)));
  CHECK(run.at(0, CC, AA, 3) == doctest::Approx(-0.5 + 0.25 * (0.6 + 0.5)));
  CHECK(run.at(0, BB, CC, 3) == doctest::Approx(-0.3 + 0.25 * (0.7 + 0.3)));
}

TEST_CASE("balance alone, N = 3: the one third party's W[i,k] W[k,j], by hand") {
  const auto run = one_run(test::three_agents("k_a = 0\nk_r = 0\nk_b = 0.5\nsigma = 0") + kStart);
  CHECK(run.at(0, AA, BB, 3) == doctest::Approx(0.2 + 0.5 * (0.6 * 0.7)));    // AA-CC, CC-BB
  CHECK(run.at(0, BB, AA, 3) == doctest::Approx(0.4 + 0.5 * (-0.3 * -0.5)));  // BB-CC, CC-AA
  CHECK(run.at(0, AA, CC, 3) == doctest::Approx(0.6 + 0.5 * (0.2 * -0.3)));   // AA-BB, BB-CC
  CHECK(run.at(0, CC, AA, 3) == doctest::Approx(-0.5 + 0.5 * (0.7 * 0.4)));   // CC-BB, BB-AA
  CHECK(run.at(0, BB, CC, 3) == doctest::Approx(-0.3 + 0.5 * (0.4 * 0.6)));   // BB-AA, AA-CC
  CHECK(run.at(0, CC, BB, 3) == doctest::Approx(0.7 + 0.5 * (-0.5 * 0.2)));   // CC-AA, AA-BB
}

namespace {
/// A five-agent scenario with unequal capabilities and the given start W (all pairs set).
std::string five_agents(const double c[5], const double w[5][5], const std::string& parameters,
                        const std::string& end = "1950-12") {
  std::string t = "[scenario]\nname = \"five\"\ntitle = \"five\"\n[parameters]\nstart = \"1950-01\"\nend = \"" + end + "\"\n" +
                  parameters + "\n[[issues]]\nid = \"x\"\nmeaning = \"x\"\n";
  for (int i = 0; i < 5; ++i) {
    const std::string id = "P" + std::to_string(i);
    t += "[[agents]]\nid = \"" + id + "\"\nname = \"" + id + "\"\ncapability = " + std::to_string(c[i]) + "\n";
    t += "[interests." + id + "]\nx = { position = 0.0, salience = 1.0 }\n";
  }
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      if (i == j) continue;
      t += "[[initial_alignment]]\nfrom = \"P" + std::to_string(i) + "\"\nto = \"P" + std::to_string(j) +
           "\"\nvalue = " + std::to_string(w[i][j]) + "\n";
    }
  }
  return t;
}
}  // namespace

TEST_CASE("balance alone, N = 5 with unequal capabilities: capability-weighted mean over third parties") {
  const double c[5] = {0.40, 0.25, 0.15, 0.12, 0.08};
  const double w[5][5] = {{0, 0.3, -0.2, 0.5, -0.6},
                          {0.1, 0, 0.4, -0.3, 0.2},
                          {-0.4, 0.6, 0, 0.1, -0.1},
                          {0.7, -0.2, 0.3, 0, 0.5},
                          {-0.5, 0.1, -0.3, 0.4, 0}};
  const double kb = 0.3;
  const auto run = one_run(five_agents(c, w, "k_a = 0\nk_r = 0\nk_b = 0.3\nsigma = 0"));
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) {
      if (i == j) continue;
      double num = 0, den = 0;
      for (int k = 0; k < 5; ++k) {
        if (k == i || k == j) continue;
        num += c[k] * w[i][k] * w[k][j];
        den += c[k];
      }
      CAPTURE(i);
      CAPTURE(j);
      CHECK(run.at(0, i, j, 5) == doctest::Approx(w[i][j] + kb * num / den).epsilon(1e-5));
    }
  }
  // One hand-worked cell: B[P0,P1] = (0.15 * -0.2 * 0.6 + 0.12 * 0.5 * -0.2 + 0.08 * -0.6 * 0.1) / 0.35.
  CHECK(run.at(0, 0, 1, 5) == doctest::Approx(0.3 + 0.3 * (-0.018 - 0.012 - 0.0048) / 0.35).epsilon(1e-5));
}

TEST_CASE("alignment is clipped to [-1, 1]") {
  const std::string shock = R"(
[[events]]
id = "big_push"
date = "1950-01"
title = "a large shock"
kind = "agreement"
actors = ["AA", "BB"]
source = [1]
[[events.shocks]]
from = "AA"
to = "BB"
mean = 1.5
[[events.shocks]]
from = "AA"
to = "CC"
mean = -1.9
)";
  const auto run = one_run(test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0") + kStart + shock);
  CHECK(run.at(0, AA, BB, 3) == 1.0f);
  CHECK(run.at(0, AA, CC, 3) == -1.0f);
  CHECK(run.at(0, BB, AA, 3) == doctest::Approx(0.4));
}

TEST_CASE("noise alone: increments with mean 0 and standard deviation sigma") {
  const Model model(test::scenario_from(test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0.1") + kStart));
  const auto runs = test::simulate(model, 3, 0, 4000);
  double sum = 0, sum2 = 0;
  int n = 0;
  for (const auto& r : runs) {
    const double dx = r.at(0, AA, BB, 3) - 0.2;
    sum += dx;
    sum2 += dx * dx;
    ++n;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum2 / n - mean * mean);
  CHECK(std::fabs(mean) < 4 * 0.1 / std::sqrt(n));
  CHECK(sd == doctest::Approx(0.1).epsilon(0.05));  // the sd's standard error is 1.1%
}

TEST_CASE("balance alone splits agents into the factions of the leading eigenvector (dX/dt = X^2)") {
  // Marvel et al. (2011): from a symmetric start, balance dynamics end in two factions given by
  // the signs of the leading eigenvector of the start matrix. Equal capabilities, so B is X^2.
  std::mt19937 gen(2011);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  const double c[5] = {1, 1, 1, 1, 1};
  int cases = 0;
  while (cases < 12) {
    double w[5][5] = {};
    Eigen::Matrix<double, 5, 5> X = Eigen::Matrix<double, 5, 5>::Zero();
    for (int i = 0; i < 5; ++i) {
      for (int j = i + 1; j < 5; ++j) {
        w[i][j] = w[j][i] = X(i, j) = X(j, i) = std::round(u(gen) * 1000) / 1000;
      }
    }
    Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, 5, 5>> solver(X);
    const auto values = solver.eigenvalues();  // ascending
    if (values(4) - values(3) < 0.1) continue;  // want a clear leading eigenvalue
    const Eigen::Matrix<double, 5, 1> v = solver.eigenvectors().col(4);
    if (v.cwiseAbs().minCoeff() < 0.05) continue;  // and no agent on the fence
    ++cases;
    const auto run = one_run(five_agents(c, w, "k_a = 0\nk_r = 0\nk_b = 0.2\nsigma = 0", "1999-12"));
    const int last = 599;
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 5; ++j) {
        if (i == j) continue;
        CAPTURE(cases);
        CAPTURE(i);
        CAPTURE(j);
        const float final_w = run.at(last, i, j, 5);
        CHECK((final_w > 0) == (v(i) * v(j) > 0));
      }
    }
  }
}
