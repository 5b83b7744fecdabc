#include <doctest/doctest.h>

#include "scenario/ScenarioLoader.hpp"
#include "scenario/Streams.hpp"
#include "scenario/ScenarioWriter.hpp"
#include "support/Support.hpp"

using namespace alignsim;

TEST_CASE("the small test scenario loads with its include and every field resolved") {
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  CHECK(s.name == "small");
  CHECK(s.agent_count() == 3);
  CHECK(s.issue_count() == 2);
  CHECK(s.parameters.months() == 24);
  REQUIRE(s.event_count() == 6);
  const Event& invited = s.events[s.event_index("cc_invited_by_bb")];
  CHECK(invited.probability == doctest::Approx(0.5));
  CHECK(invited.jitter_months == 2);
  CHECK(s.parameters.k_p == doctest::Approx(0.02));
  CHECK(s.parameters.k_0 == doctest::Approx(0.05));
  CHECK(s.parameters.response[0] == 1.0);
  const Event& pact = s.events[s.event_index("cc_joins_aa_pact")];
  REQUIRE(pact.decision.has_value());
  CHECK(!pact.decision->windowed);
  CHECK(pact.decision->b0 == doctest::Approx(-1.0));
  CHECK(pact.decision->dyads.size() == 1);
  REQUIRE(pact.decision->interests.size() == 1);
  CHECK(pact.decision->interests[0].issue == s.issue_index("security"));
  CHECK(pact.decision->interests[0].coef == doctest::Approx(-1.0));
  REQUIRE(s.choices.size() == 1);
  const Choice& choice = s.choices[0];
  CHECK(choice.id == "cc_alignment");
  CHECK(choice.actor == s.agent_index("CC"));
  CHECK(choice.options == std::vector<int>{s.event_index("cc_joins_aa_pact"), s.event_index("cc_joins_bb_pact")});
  CHECK(choice.from == Month::of(1950, 6));
  CHECK(pact.choice == 0);
  CHECK(pact.shifts.size() == 1);
  CHECK(pact.shifts[0].position_delta.value() == doctest::Approx(-0.8));
  CHECK(pact.shifts[0].durable);
  CHECK(pact.shocks[0].goldstein.value() == doctest::Approx(8.3));
  CHECK(pact.shocks[0].effective_mean(s.parameters) == doctest::Approx(8.3 * 0.02));
  const Event& arms = s.events[s.event_index("aa_arms_cc")];
  CHECK(arms.required == std::vector<int>{s.event_index("cc_joins_aa_pact")});
  CHECK(arms.capabilities.at(0).factor.value() == doctest::Approx(1.2));
  CHECK(s.events[s.event_index("bb_renamed")].renames.at(0).name == "New Borduria");
  CHECK(s.agents[0].ccode == 365);
  CHECK(s.agents[1].ccode == 2);
  CHECK(s.agents[2].ccode == 710);
}

TEST_CASE("an agent's Correlates of War code is optional and survives writing back") {
  const std::string text = to_toml(load_scenario(ALIGNSIM_TEST_DATA "/small.toml"));
  CHECK(text.find("ccode = 2\n") != std::string::npos);
  CHECK(load_scenario_text(text, "resolved.toml").agents[1].ccode == 2);
  CHECK(test::scenario_from(test::three_agents("k_a = 0.05")).agents[0].ccode == 0);
}

TEST_CASE("a scenario written back as TOML loads to the same scenario") {
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const std::string text = to_toml(s);
  const Scenario again = load_scenario_text(text, "resolved.toml");
  CHECK(to_toml(again) == text);
  CHECK(again.event_count() == s.event_count());
  CHECK(again.events[2].decision->dyads[0].coef == s.events[2].decision->dyads[0].coef);
  CHECK(again.choices.size() == s.choices.size());
  CHECK(again.choices[0].options == s.choices[0].options);
}

TEST_CASE("event streams come from ids, not positions, and never collide with the noise stream") {
  CHECK(event_stream("pk_joins_seato") == event_stream("pk_joins_seato"));
  CHECK(event_stream("pk_joins_seato") != event_stream("pk_joins_cento"));
  CHECK(event_stream("") != 0u);
}
