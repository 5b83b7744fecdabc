// A decision's monthly hazard: the kernel computes it with vector math and decides outcomes as the
// scalar libm value would.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/Batch.hpp"

using namespace alignsim;

namespace {

/// Logits over the range decisions use, with extremes and exact zero.
std::vector<float> logits() {
  std::vector<float> eta = {0.0f, -0.0f, 1e-8f, -1e-8f, 40.0f, -40.0f, 88.0f, -88.0f, 100.0f, -100.0f};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-30.0f, 30.0f), narrow(-4.0f, 4.0f);
  for (int k = 0; k < 40000; ++k) eta.push_back(k % 2 ? wide(rng) : narrow(rng));
  while (eta.size() % kLanes != 0) eta.push_back(1.0f);
  return eta;
}

}  // namespace

TEST_CASE("decision hazards: the vector hazard is within 1e-5 of the scalar one, which equals the formula") {
  const auto eta = logits();
  std::vector<float> fast(eta.size());
  for (const int months : {1, 2, 3, 7, 12, 27, 60, 641}) {
    const float inv = 1.0f / static_cast<float>(months);
    for (std::size_t b = 0; b < eta.size(); b += kLanes) detail::decision_hazards(&eta[b], inv, &fast[b]);
    double worst = 0, formula_error = 0;
    for (std::size_t k = 0; k < eta.size(); ++k) {
      const float exact = detail::decision_hazard(eta[k], inv);
      // h = 1 - (1 - P)^(1/L) with P = logistic(eta), so 1 - P = 1 / (1 + e^eta); in double precision.
      const double formula = -std::expm1(-std::log1p(std::exp(static_cast<double>(eta[k]))) / months);
      // (Below 1e-30 floats lose precision; draws are at least 2^-24.)
      if (formula > 1e-30) formula_error = std::max(formula_error, std::fabs(exact - formula) / formula);
      if (exact > 1e-30f) worst = std::max(worst, std::fabs(static_cast<double>(fast[k]) - exact) / exact);
    }
    INFO("window of " << months << " months");
    CHECK(formula_error < 1e-6);
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("decision hazards: a draw fires exactly when it is below the scalar hazard") {
  const auto eta = logits();
  std::vector<float> fast(eta.size());
  int differ = 0;
  for (const int months : {1, 12, 27}) {
    const float inv = 1.0f / static_cast<float>(months);
    for (std::size_t b = 0; b < eta.size(); b += kLanes) detail::decision_hazards(&eta[b], inv, &fast[b]);
    for (std::size_t k = 0; k < eta.size(); ++k) {
      const float exact = detail::decision_hazard(eta[k], inv);
      differ += fast[k] != exact;
      // Draws at and next to both values: where a comparison with the vector value would go wrong.
      for (const float u : {exact, std::nextafter(exact, 0.0f), std::nextafter(exact, 1.0f), fast[k],
                            std::nextafter(fast[k], 0.0f), std::nextafter(fast[k], 1.0f), 0.5f * exact, 0.5f}) {
        if (!(u > 0.0f && u < 1.0f)) continue;
        // Lane 0 may fire, lane 1 may not: only lane 0 can come out firing.
        alignas(64) float lane_u[kLanes], lane_fast[kLanes], lane_eta[kLanes];
        alignas(64) int fire[kLanes];
        for (int l = 0; l < kLanes; ++l) {
          lane_u[l] = u;
          lane_fast[l] = fast[k];
          lane_eta[l] = eta[k];
          fire[l] = l != 1;
        }
        detail::decisions_fire(lane_u, lane_fast, lane_eta, inv, fire);
        if ((fire[0] != 0) != (u < exact) || fire[1] != 0) {
          FAIL("eta " << eta[k] << ", " << months << " months, u " << u << ": fast " << fast[k] << ", exact " << exact);
        }
      }
    }
  }
  // The case matters only if the two hazards do differ somewhere. Under the sanitizers GCC does not
  // call glibc's vector math (the instrumented loop stays scalar), so there they may agree everywhere,
  // and the checks above still hold.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  if (differ == 0) MESSAGE("the vector hazard equals the scalar one everywhere in this sanitized build");
#else
  CHECK(differ > 0);
#endif
}

TEST_CASE("decision hazards: the cheap bound is never below the scalar hazard") {
  const auto eta = logits();
  for (const int months : {1, 2, 3, 7, 12, 27, 60, 641}) {
    const float inv = 1.0f / static_cast<float>(months);
    for (const float x : eta) {
      const float exact = detail::decision_hazard(x, inv);
      const float bound = detail::decision_hazard_bound(x, inv);
      if (!(bound >= exact)) FAIL("eta " << x << ", " << months << " months: bound " << bound << " < hazard " << exact);
    }
  }
}
