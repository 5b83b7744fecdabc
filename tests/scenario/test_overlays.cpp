// Overlays: a counterfactual is a small file over a base scenario.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/Streams.hpp"
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
  CHECK(noop.base == std::vector<std::string>{"small"});
  CHECK(noop.base_fnv1a == std::vector<std::string>{fnv1a64_hex(to_toml(base))});
  noop.base.clear();
  noop.base_fnv1a.clear();
  CHECK(to_toml(noop) == to_toml(base));
}

TEST_CASE("an overlay records the scenario it extends, as a run of that scenario stores it") {
  const Scenario small = load_scenario(kData + "/small.toml");
  CHECK(small.base.empty());
  CHECK(small.base_fnv1a.empty());
  const Scenario refit = load_scenario(kData + "/overlays/small_refit.toml");
  CHECK(refit.base == std::vector<std::string>{"small"});
  CHECK(refit.base_fnv1a == std::vector<std::string>{fnv1a64_hex(to_toml(small))});
  // An overlay of a baseline that is itself an overlay records that baseline alone (base fields and
  // all in its hash): small_refit asks no question.
  const Scenario cf = load_scenario(kData + "/overlays/on_refit.toml");
  CHECK(cf.base == std::vector<std::string>{"small_refit"});
  CHECK(cf.base_fnv1a == std::vector<std::string>{fnv1a64_hex(to_toml(refit))});
  // A counterfactual of a counterfactual may be compared with either, not with what the baseline extends.
  const Scenario more = load_scenario(kData + "/overlays/on_refit_more.toml");
  CHECK(more.base == std::vector<std::string>{"small_refit_no_pact", "small_refit"});
  CHECK(more.base_fnv1a == std::vector<std::string>{fnv1a64_hex(to_toml(cf)), fnv1a64_hex(to_toml(refit))});
  // The resolved text keeps them.
  const Scenario again = load_scenario_text(to_toml(cf), "resolved");
  CHECK(again.base == cf.base);
  CHECK(again.base_fnv1a == cf.base_fnv1a);
  CHECK(to_toml(again) == to_toml(cf));
  CHECK_THROWS_AS(load_scenario_text("[scenario]\nname = \"x\"\ntitle = \"x\"\nbase = [\"y\"]\nbase_fnv1a = [\"12\"]\n",
                                     "short"),
                  ScenarioError);
}

TEST_CASE("fnv1a64 is the 64-bit FNV-1a hash") {
  // Published test vectors of FNV-1a 64.
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
  CHECK(fnv1a64_hex("a") == "af63dc4c8601ec8c");
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
