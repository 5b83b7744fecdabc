// Overlays: a counterfactual is a small file over a base scenario.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

using namespace alignsim;

namespace {
const std::string kData = ALIGNSIM_TEST_DATA;

/// Writes the overlay to a temporary folder (its "../small.toml" pointing at the test data) and loads it.
std::vector<Diagnostic> errors_of_overlay(std::string text) {
  const auto dir = std::filesystem::temp_directory_path() / ("alignsim_overlay_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (std::size_t at; (at = text.find("\"../")) != std::string::npos;) text.replace(at, 4, "\"" + kData + "/");
  const auto path = dir / ".test_overlay.toml";
  std::ofstream(path) << text;
  try {
    load_scenario(path);
  } catch (const ScenarioError& e) {
    std::filesystem::remove_all(dir);
    return e.diagnostics();
  }
  std::filesystem::remove_all(dir);
  FAIL("the overlay was accepted");
  return {};
}
}  // namespace

TEST_CASE("an overlay that changes nothing resolves to its base, but for its name") {
  Scenario base = load_scenario(kData + "/small.toml");
  Scenario noop = load_scenario(kData + "/overlays/noop.toml");
  CHECK(noop.name == "small_noop");
  CHECK(noop.question == "Does an overlay that changes nothing change anything?");
  noop.name = base.name;
  noop.title = base.title;
  noop.question.clear();
  noop.source.clear();
  CHECK(to_toml(noop) == to_toml(base));
}

TEST_CASE("remove, replace, patch, add and parameter overrides") {
  const Scenario base = load_scenario(kData + "/small.toml");
  const Scenario s = load_scenario(kData + "/overlays/every_change.toml");
  CHECK(s.event_index("aa_visits_cc") < 0);
  CHECK(s.parameters.sigma == doctest::Approx(0.05));
  CHECK(s.parameters.k_a == doctest::Approx(base.parameters.k_a));
  const Event& invited = s.events.at(s.event_index("cc_invited_by_bb"));
  CHECK(invited.title == "Borduria invites Carpathia, surely");
  CHECK(invited.probability == 1.0);  // replaced whole: the base's probability 0.5 is gone
  CHECK(invited.jitter_months == 0);
  CHECK(invited.shocks.at(0).mean == doctest::Approx(0.1));
  const Event& pact = s.events.at(s.event_index("cc_joins_bb_pact"));
  CHECK(pact.decision->b0 == doctest::Approx(-1.0));
  CHECK(pact.decision->dyads.size() == 1);  // patched term by term: the rest stays
  CHECK(pact.decision->after.size() == 1);
  CHECK(!pact.decision->windowed);  // an option: its window is the choice's
  REQUIRE(s.choices.size() == 1);
  CHECK(s.choices[0].excluded == std::vector<int>{s.event_index("cc_joins_aa_pact")});
  CHECK(s.choices[0].from == Month::of(1950, 6));
  const Event& arms = s.events.at(s.event_index("aa_arms_cc"));
  CHECK(arms.probability == doctest::Approx(0.5));
  CHECK(arms.jitter_months == 1);
  CHECK(arms.title == base.events[base.event_index("aa_arms_cc")].title);
  const Event& aid = s.events.at(s.event_index("bb_aid_cc"));
  CHECK(aid.required == std::vector<int>{s.event_index("cc_joins_bb_pact")});
  CHECK(s.event_count() == base.event_count());  // one removed, one added
}

TEST_CASE("overlay errors name the overlay's file and line") {
  auto e = errors_of_overlay("extends = \"../small.toml\"\nremove = [\"no_such_event\"]\n[scenario]\nname = \"x\"\ntitle = \"x\"\n");
  CHECK(e.at(0).message.find("cannot remove 'no_such_event': no such event in the scenario it extends") != std::string::npos);
  CHECK(e.at(0).line == 2);
  CHECK(e.at(0).file.find(".test_overlay.toml") != std::string::npos);

  e = errors_of_overlay("extends = \"../small.toml\"\n[scenario]\nname = \"x\"\ntitle = \"x\"\n[[patch]]\nevent = \"nothing\"\nprobability = 0.5\n");
  CHECK(e.at(0).message.find("cannot patch 'nothing'") != std::string::npos);
  CHECK(e.at(0).line == 6);

  e = errors_of_overlay("extends = \"../missing_base.toml\"\n[scenario]\nname = \"x\"\ntitle = \"x\"\n");
  CHECK(e.at(0).message.find("cannot open scenario file") != std::string::npos);
  CHECK(e.at(0).message.find("missing_base.toml") != std::string::npos);
  CHECK(e.at(0).line == 1);

  e = errors_of_overlay("extends = \"../small.toml\"\n[scenario]\nname = \"x\"\ntitle = \"x\"\n[[patch]]\nevent = \"aa_arms_cc\"\nprobabilty = 0.5\n");
  CHECK(e.at(0).message.find("unknown key 'probabilty'") != std::string::npos);
  CHECK(e.at(0).line == 7);

  e = errors_of_overlay("extends = \"../small.toml\"\n[scenario]\nname = \"x\"\ntitle = \"x\"\n[[events]]\nid = \"aa_visits_cc\"\n"
                        "date = \"1950-03\"\ntitle = \"t\"\nkind = \"visit\"\nactors = [\"AA\"]\nsource = [1]\n");
  CHECK(e.at(0).message.find("duplicate event id 'aa_visits_cc'") != std::string::npos);
}

TEST_CASE("changing a base without extends is an error") {
  const auto path = std::filesystem::temp_directory_path() / ("alignsim_plain_" + std::to_string(::getpid()) + ".toml");
  std::ifstream in(kData + "/small.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::ofstream(path) << "remove = [\"aa_visits_cc\"]\n" << text.str();
  try {
    load_scenario(path);
    FAIL("accepted");
  } catch (const ScenarioError& e) {
    CHECK(e.diagnostics().at(0).message.find("'remove' changes a base scenario, so it needs 'extends'") != std::string::npos);
  }
  std::filesystem::remove(path);
}
