// Interests that move: anchoring, durable and transient shifts, and the influence of alignment,
// against values derived by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "model/Model.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

/// Two agents, one issue, W frozen at a given value both ways (nothing moves W: k_a = k_r = k_b =
/// sigma = 0), positions pa and pb.
std::string two_agents(double w, double pa, double pb, const std::string& parameters, int months) {
  const Month end = Month::of(1950, 1) + (months - 1);
  return "[scenario]\nname = \"t\"\ntitle = \"t\"\n[parameters]\nstart = \"1950-01\"\nend = \"" + end.str() +
         "\"\nk_a = 0\nk_r = 0\nk_b = 0\nsigma = 0\n" + parameters +
         "\n[[agents]]\nid = \"AA\"\nname = \"A\"\ncapability = 0.7\n[[agents]]\nid = \"BB\"\nname = \"B\"\ncapability = 0.3\n"
         "[[issues]]\nid = \"x\"\nmeaning = \"x\"\n[interests.AA]\nx = { position = " +
         std::to_string(pa) + ", salience = 1 }\n[interests.BB]\nx = { position = " + std::to_string(pb) +
         ", salience = 1 }\n[[initial_alignment]]\nfrom = \"AA\"\nto = \"BB\"\nvalue = " + std::to_string(w) +
         "\nboth_ways = true\n";
}

std::string shift(const std::string& id, const std::string& date, double delta, bool durable) {
  return "\n[[events]]\nid = \"" + id + "\"\ndate = \"" + date + "\"\ntitle = \"" + id +
         "\"\nkind = \"statement\"\nactors = [\"AA\"]\nsource = [1]\n[[events.shifts]]\nagent = \"AA\"\nissue = \"x\"\n"
         "position_delta = " + std::to_string(delta) + "\ndurable = " + (durable ? "true" : "false") + "\n";
}

test::Run one_run(const std::string& toml) { return test::simulate(Model(test::scenario_from(toml)), 1, 0, 1)[0]; }

}  // namespace

TEST_CASE("anchoring: a transient shift decays geometrically at k_0, a durable one stays") {
  const double k0 = 0.1;
  // W = 0: no influence, only the anchor.
  const auto transient = one_run(two_agents(0.0, 0.0, 0.0, "k_0 = 0.1", 60) + shift("s", "1950-01", 0.5, false));
  const auto durable = one_run(two_agents(0.0, 0.0, 0.0, "k_0 = 0.1", 60) + shift("s", "1950-01", 0.5, true));
  for (int t = 0; t < 60; ++t) {
    // The shift happens in month 0, then that month's step pulls it back once: 0.5 (1 - k_0)^(t + 1).
    CHECK(transient.position_at(t, 0, 0, 2, 1) == doctest::Approx(0.5 * std::pow(1 - k0, t + 1)).epsilon(1e-4));
    CHECK(durable.position_at(t, 0, 0, 2, 1) == doctest::Approx(0.5).epsilon(1e-6));
  }
}

TEST_CASE("the interest dynamics converge to their fixed point") {
  // Two agents on one issue with W[AA,BB] = W[BB,AA] = w held fixed, anchors a < b. Each weight is
  // c_other |w| / c_other = |w|. With p_a < p_b, the fixed point keeps the mean (a + b) / 2 and
  // sets the distance D from k_0 ((b - a) - D) = 2 k_p |w| (D - (1 - w)):
  //   D = (k_0 (b - a) + 2 k_p |w| (1 - w)) / (k_0 + 2 k_p |w|).
  for (const double w : {0.6, -0.5}) {
    const double a = -0.2, b = 0.4, kp = 0.08, k0 = 0.05;
    const auto run = one_run(two_agents(w, a, b, "k_p = 0.08\nk_0 = 0.05", 600));
    const double distance = (k0 * (b - a) + 2 * kp * std::fabs(w) * (1 - w)) / (k0 + 2 * kp * std::fabs(w));
    const double pa = run.position_at(599, 0, 0, 2, 1), pb = run.position_at(599, 1, 0, 2, 1);
    CAPTURE(w);
    CHECK(pb - pa == doctest::Approx(distance).epsilon(1e-4));
    CHECK((pa + pb) / 2 == doctest::Approx((a + b) / 2).epsilon(1e-4));
    // Alliance draws the positions together, rivalry holds them further apart than the anchors.
    CHECK((w > 0 ? pb - pa < b - a : pb - pa > b - a));
  }
}

TEST_CASE("with k_p = k_0 = 0 positions stay where events put them") {
  const auto run = one_run(two_agents(0.7, 0.1, 0.9, "", 24) + shift("s", "1950-06", -0.3, false));
  for (int t = 0; t < 24; ++t) CHECK(run.position_at(t, 0, 0, 2, 1) == doctest::Approx(t < 5 ? 0.1 : -0.2).epsilon(1e-6));
}
