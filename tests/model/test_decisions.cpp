// Decisions and choices: window-probability logits, against values derived by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "model/Model.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

// W frozen at the affinity: M[AA, CC] = (A[AA,CC] + A[CC,AA]) / 2 = (0.12 + 0.10) / 2 = 0.11, M[AA, BB] =
// (0.0 + 0.0) / 2 = 0 every month; positions fixed (k_p = k_0 = 0).
const std::string kFrozen = test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0", 120);

std::string event(const std::string& id, const std::string& date, const std::string& kind, const std::string& extra) {
  return "\n[[events]]\nid = \"" + id + "\"\ndate = \"" + date + "\"\ntitle = \"" + id + "\"\nkind = \"" + kind +
         "\"\nactors = [\"AA\"]\nsource = [1]\n" + extra;
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct Counts {
  std::vector<test::Run> runs;
  Scenario scenario;
  int month_of(std::size_t r, const std::string& id) const { return runs[r].event_month[scenario.event_index(id)]; }
};

Counts simulate(const std::string& toml, int count, std::uint64_t seed = 23) {
  Counts c{{}, test::scenario_from(toml)};
  c.runs = test::simulate(Model(c.scenario), seed, 0, count);
  return c;
}

/// |observed share - p| within 4 binomial standard errors.
void check_share(double hits, double n, double p) {
  CAPTURE(hits / n);
  CAPTURE(p);
  CHECK(std::fabs(hits / n - p) < 4 * std::sqrt(p * (1 - p) / n) + 1e-9);
}

}  // namespace

TEST_CASE("with the state held constant, a decision happens within its window with probability P = logistic(b0)") {
  for (const double p : {0.1, 0.5, 0.9}) {
    for (const int months : {1, 12, 60}) {
      const Month from = Month::of(1951, 1);
      const std::string decision = "[events.decision]\nfrom = \"" + from.str() + "\"\nto = \"" + (from + (months - 1)).str() +
                                   "\"\nb0 = " + std::to_string(std::log(p / (1 - p))) + "\n";
      const auto c = simulate(kFrozen + event("act", from.str(), "visit", decision), 4000);
      double hits = 0, first_month = 0;
      for (std::size_t r = 0; r < c.runs.size(); ++r) {
        const int m = c.month_of(r, "act");
        REQUIRE((m < 0 || (m >= 12 && m < 12 + months)));
        hits += m >= 0;
        first_month += m == 12;
      }
      CAPTURE(months);
      check_share(hits, 4000, p);
      // The monthly hazard is h = 1 - (1 - P)^(1/L): the first month alone takes a share h.
      check_share(first_month, 4000, 1 - std::pow(1 - p, 1.0 / months));
    }
  }
}

TEST_CASE("a decision's logit reads dyads, interests, earlier events and power, scaled by its class's response") {
  // eta = b0 + r (2 M[AA,CC] + 1.5 [trigger] - 0.8 p[AA, ideology] + 0.3 ln(c_AA / c_CC)), with the
  // response of statements r = 1.7; M = 0.11, p = 1.0, c = 0.5 and 0.2.
  const double b0 = -1.2, r = 1.7;
  const std::string decision =
      "[events.decision]\nfrom = \"1950-02\"\nto = \"1951-01\"\nb0 = " + std::to_string(b0) +
      "\ndyads = [{ a = \"AA\", b = \"CC\", coef = 2.0 }]\nafter = [{ event = \"trigger\", coef = 1.5 }]\n"
      "interests = [{ agent = \"AA\", issue = \"ideology\", coef = -0.8 }]\npower = [{ a = \"AA\", b = \"CC\", coef = 0.3 }]\n";
  const std::string toml = test::three_agents("k_a = 0\nk_r = 0\nk_b = 0\nsigma = 0\nresponse_statement = 1.7", 120) +
                           event("trigger", "1950-01", "visit", "probability = 0.5\n") +
                           event("act", "1950-06", "statement", decision);
  const auto c = simulate(toml, 6000);
  for (const bool triggered : {false, true}) {
    const double eta = b0 + r * (2.0 * 0.11 + (triggered ? 1.5 : 0.0) - 0.8 * 1.0 + 0.3 * std::log(0.5 / 0.2));
    double hits = 0, n = 0;
    for (std::size_t k = 0; k < c.runs.size(); ++k) {
      if ((c.month_of(k, "trigger") >= 0) != triggered) continue;
      ++n;
      hits += c.month_of(k, "act") >= 0;
    }
    CAPTURE(triggered);
    check_share(hits, n, logistic(eta));
  }
}

namespace {
const std::string kChoice = R"(
[[choices]]
id = "alignment"
title = "CC picks a side"
actor = "CC"
from = "1951-01"
to = "1952-12"
source = [1]
options = ["with_aa", "with_bb"]
)";

std::string options(double b0_aa, double b0_bb) {
  return event("with_aa", "1951-06", "alliance",
               "[events.decision]\nb0 = " + std::to_string(b0_aa) + "\ndyads = [{ a = \"AA\", b = \"CC\", coef = 3.0 }]\n") +
         event("with_bb", "1951-06", "alliance", "[events.decision]\nb0 = " + std::to_string(b0_bb) + "\n");
}
}  // namespace

TEST_CASE("a choice's options and none have multinomial-logit probabilities that sum to 1") {
  const double b0_aa = 0.2, b0_bb = -0.5;
  const double eta_aa = b0_aa + 3.0 * 0.11, eta_bb = b0_bb;
  const double denominator = 1 + std::exp(eta_aa) + std::exp(eta_bb);
  const double p_aa = std::exp(eta_aa) / denominator, p_bb = std::exp(eta_bb) / denominator, p_none = 1 / denominator;
  CHECK(p_aa + p_bb + p_none == doctest::Approx(1.0));
  const auto c = simulate(kFrozen + kChoice + options(b0_aa, b0_bb), 6000);
  double aa = 0, bb = 0, none = 0;
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    const int a = c.month_of(r, "with_aa"), b = c.month_of(r, "with_bb");
    REQUIRE(!(a >= 0 && b >= 0));  // at most one option, once
    aa += a >= 0;
    bb += b >= 0;
    none += a < 0 && b < 0;
  }
  CHECK(aa + bb + none == 6000);
  check_share(aa, 6000, p_aa);
  check_share(bb, 6000, p_bb);
  check_share(none, 6000, p_none);
}

TEST_CASE("forcing an option gives it probability 1 at its date; excluding one renormalises the rest") {
  const auto forced = simulate(kFrozen + kChoice + "force = \"with_bb\"\n" + options(2.0, -3.0), 500);
  for (std::size_t r = 0; r < forced.runs.size(); ++r) {
    CHECK(forced.month_of(r, "with_bb") == 17);  // 1951-06
    CHECK(forced.month_of(r, "with_aa") == -1);
  }
  const double eta_bb = -0.5;
  const auto excluded = simulate(kFrozen + kChoice + "exclude = [\"with_aa\"]\n" + options(0.2, eta_bb), 6000);
  double bb = 0;
  for (std::size_t r = 0; r < excluded.runs.size(); ++r) {
    CHECK(excluded.month_of(r, "with_aa") == -1);
    bb += excluded.month_of(r, "with_bb") >= 0;
  }
  check_share(bb, 6000, std::exp(eta_bb) / (1 + std::exp(eta_bb)));
}

TEST_CASE("forcing or excluding an option changes no draw of any other event") {
  const std::string other = event("coin", "1953-06", "visit", "probability = 0.5\njitter_months = 3\n");
  const auto free = simulate(kFrozen + kChoice + options(0.0, 0.0) + other, 300);
  const auto forced = simulate(kFrozen + kChoice + "force = \"with_aa\"\n" + options(0.0, 0.0) + other, 300);
  for (std::size_t r = 0; r < 300; ++r) CHECK(free.month_of(r, "coin") == forced.month_of(r, "coin"));
}
