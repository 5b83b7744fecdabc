// One test per class of bad scenario: each must name the file, the line and what was expected.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "support/Support.hpp"

using namespace alignsim;

namespace {

const std::string kBase = test::three_agents("k_a = 0.05");

const std::string kEvent = R"(
[[events]]
id = "visit"
date = "1950-06"
title = "A visit"
kind = "visit"
actors = ["AA", "BB"]
source = [1]
)";

/// The 1-based line of the first occurrence of `needle` in `text`.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
}

std::vector<Diagnostic> errors_of(const std::string& text) {
  try {
    test::scenario_from(text);
  } catch (const ScenarioError& e) {
    return e.diagnostics();
  }
  FAIL("the scenario was accepted");
  return {};
}

/// Checks that the first error is at the line of `needle` in test.toml and says `expected`.
void check_error(const std::string& text, const std::string& needle, const std::string& expected) {
  const auto errors = errors_of(text);
  REQUIRE(!errors.empty());
  const auto& d = errors.front();
  INFO(d.str());
  CHECK(d.file == "test.toml");
  CHECK(d.line == line_of(text, needle));
  CHECK(d.column > 0);
  CHECK(d.message.find(expected) != std::string::npos);
  CHECK(d.str().rfind("test.toml:" + std::to_string(d.line) + ":", 0) == 0);
}

}  // namespace

TEST_CASE("a valid base is accepted, so the cases below fail for their own reason") {
  CHECK_NOTHROW(test::scenario_from(kBase + kEvent));
}

TEST_CASE("malformed TOML names the line") {
  const std::string text = kBase + "\n[[events]]\nid = \"broken\nkind = \"visit\"\n";
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].file == "test.toml");
  CHECK(errors[0].line == line_of(text, "id = \"broken"));
  CHECK(errors[0].message.find("invalid TOML") != std::string::npos);
}

TEST_CASE("unknown keys are errors that list the keys expected") {
  std::string text = kBase + kEvent + "probabilty = 0.5\n";
  check_error(text, "probabilty", "unknown key 'probabilty'; expected one of");
  text = kBase + "colour = \"red\"\n";  // lands in [interests.CC]
  check_error(text, "colour", "unknown issue 'colour'");
  text = "bogus = 1\n" + kBase;
  check_error(text, "bogus", "unknown key 'bogus'");
}

TEST_CASE("an unknown agent is named with the agents there are") {
  std::string text = kBase + kEvent;
  text.replace(text.find("[\"AA\", \"BB\"]"), 12, "[\"AA\", \"XX\"]");
  check_error(text, "\"XX\"", "unknown agent 'XX' in 'actors'; agents are AA, BB, CC");
  check_error(kBase + "[interests.ZZ]\nideology = { position = 0, salience = 1 }\n", "[interests.ZZ]",
              "unknown agent 'ZZ'");
}

TEST_CASE("an unknown issue in a shift is an error") {
  const std::string text = kBase + kEvent + "[[events.shifts]]\nagent = \"AA\"\nissue = \"trade\"\nposition = 0.5\n";
  check_error(text, "\"trade\"", "unknown issue 'trade'");
}

TEST_CASE("an unknown event in requires, excludes or a hazard is an error") {
  check_error(kBase + kEvent + "requires = [\"nothing_here\"]\n", "nothing_here", "unknown event 'nothing_here' in 'requires'");
  check_error(kBase + kEvent + "excludes = [\"nowhere\"]\n", "nowhere", "unknown event 'nowhere'");
}

TEST_CASE("dates outside the horizon, with or without jitter, are errors") {
  std::string text = kBase + kEvent;
  text.replace(text.find("1950-06"), 7, "1949-12");
  check_error(text, "\"1949-12\"", "1949-12 is outside the horizon 1950-01 to 1951-12");
  text = kBase + kEvent + "jitter_months = 6\n";
  text.replace(text.find("1950-06"), 7, "1950-03");
  check_error(text, "\"1950-03\"", "1950-03 ± 6 months is outside the horizon");
  text = kBase + kEvent;
  text.replace(text.find("1950-06"), 7, "1950-6");
  check_error(text, "\"1950-6\"", "must be a month \"YYYY-MM\"");
}

TEST_CASE("values out of range are errors that state the range") {
  check_error(kBase + kEvent + "probability = 1.5\n", "probability = 1.5", "a probability in [0, 1], found 1.5");
  std::string text = kBase;
  text.replace(text.find("k_a = 0.05"), 10, "k_a = -0.1");
  check_error(text, "k_a = -0.1", "'k_a' must be a number in [0, 1]");
  text = kBase;
  text.replace(text.find("capability = 0.3"), 16, "capability = 0");
  check_error(text, "capability = 0\n", "'capability' must be a number > 0");
  text = kBase;
  text.replace(text.find("position = 0.2"), 14, "position = 2.0");
  check_error(text, "position = 2.0", "'position' must be a number in [-1, 1]");
  check_error(kBase + kEvent + "[[events.shocks]]\nfrom = \"AA\"\nto = \"BB\"\ngoldstein = 12\n", "goldstein = 12",
              "a Goldstein weight in [-10, 10]");
}

TEST_CASE("wrong types are errors") {
  check_error(kBase + kEvent + "jitter_months = \"two\"\n", "\"two\"", "must be an integer in [0, 600], found a string");
  std::string text = kBase + kEvent;
  text.replace(text.find("source = [1]"), 12, "source = \"para 1\"");
  check_error(text, "\"para 1\"", "'source' must be an array of paragraph numbers");
}

TEST_CASE("an event without a source paragraph is an error") {
  std::string text = kBase + kEvent;
  text.replace(text.find("source = [1]"), 12, "source = []");
  check_error(text, "source = []", "'source' must cite at least one paragraph");
  text = kBase + kEvent;
  text.erase(text.find("source = [1]\n"), 13);
  check_error(text, "[[events]]", "missing 'source'");
}

TEST_CASE("duplicate ids are errors that point at the first") {
  const std::string text = kBase + kEvent + kEvent;
  const auto errors = errors_of(text);
  REQUIRE(!errors.empty());
  CHECK(errors[0].message.find("duplicate event id 'visit' (first at test.toml:") != std::string::npos);
  std::string agents = kBase;
  agents += "[[agents]]\nid = \"AA\"\nname = \"again\"\ncapability = 1\n";
  CHECK(errors_of(agents)[0].message.find("duplicate agent id 'AA'") != std::string::npos);
}

TEST_CASE("a Correlates of War code must be an integer in range, and each agent's own") {
  std::string text = kBase;
  text.replace(text.find("capability = 0.3\n"), 17, "capability = 0.3\nccode = \"PAK\"\n");
  check_error(text, "ccode = \"PAK\"", "'ccode' must be a Correlates of War state code, 1-999, found a string");
  text = kBase;
  text.replace(text.find("capability = 0.3\n"), 17, "capability = 0.3\nccode = 1000\n");
  check_error(text, "ccode = 1000", "found 1000");
  text = kBase;
  text.replace(text.find("capability = 0.5\n"), 17, "capability = 0.5\nccode = 770\n");
  text.replace(text.find("capability = 0.2\n"), 17, "capability = 0.2\nccode = 770\n");
  const auto at = text.find("ccode = 770", text.find("Carpathia"));
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')));
  CHECK(errors[0].message.find("ccode 770 is already the code of agent 'AA'") != std::string::npos);
}

TEST_CASE("cycles in requires are errors that show the cycle") {
  std::string a = kEvent;
  std::string b = kEvent;
  b.replace(b.find("\"visit\""), 7, "\"return_visit\"");
  const std::string text = kBase + a + "requires = [\"return_visit\"]\n" + b + "requires = [\"visit\"]\n";
  const auto errors = errors_of(text);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.find("'requires' forms a cycle: ") != std::string::npos);
  CHECK(errors[0].message.find("visit -> return_visit -> visit") != std::string::npos);
}

TEST_CASE("missing required fields say what was expected") {
  std::string text = kBase + kEvent;
  text.erase(text.find("title = \"A visit\"\n"), 18);
  check_error(text, "[[events]]", "missing 'title' (a one-line title)");
  text = kBase;
  text.erase(text.find("security = { position = 0.0, salience = 0.5 }\n"));
  const auto errors = errors_of(text);
  REQUIRE(!errors.empty());
  CHECK(errors[0].message.find("agent 'CC' has no interest for issue 'security'") != std::string::npos);
}

TEST_CASE("a decision takes no probability, and its date lies in its window") {
  const std::string decision = "[events.decision]\nfrom = \"1950-08\"\nto = \"1951-01\"\nb0 = -1\n";
  check_error(kBase + kEvent + decision, "\"1950-06\"", "must lie in the decision window 1950-08 to 1951-01");
  check_error(kBase + kEvent + "probability = 0.5\n" + decision, "probability = 0.5", "a decision event takes no 'probability'");
}

TEST_CASE("includes: a missing file and a cycle are errors at the include line") {
  const auto dir = std::filesystem::temp_directory_path() / "alignsim_test_includes";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "a.toml") << "include = [\"b.toml\"]\n" << kBase;
    std::ofstream(dir / "b.toml") << "include = [\"a.toml\"]\n";
    std::ofstream(dir / "c.toml") << "include = [\"missing.toml\"]\n" << kBase;
  }
  try {
    load_scenario(dir / "a.toml");
    FAIL("include cycle accepted");
  } catch (const ScenarioError& e) {
    CHECK(e.diagnostics()[0].message.find("include cycle: a.toml -> b.toml -> a.toml") != std::string::npos);
    CHECK(e.diagnostics()[0].line == 1);
  }
  try {
    load_scenario(dir / "c.toml");
    FAIL("missing include accepted");
  } catch (const ScenarioError& e) {
    CHECK(e.diagnostics()[0].message.find("cannot open scenario file") != std::string::npos);
    CHECK(e.diagnostics()[0].message.find("missing.toml") != std::string::npos);
    CHECK(e.diagnostics()[0].line == 1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a missing entry file is an error naming it") {
  try {
    load_scenario("/nonexistent/alignsim.toml");
    FAIL("missing file accepted");
  } catch (const ScenarioError& e) {
    CHECK(e.diagnostics()[0].file == "/nonexistent/alignsim.toml");
    CHECK(e.diagnostics()[0].message.find("no such file") != std::string::npos);
  }
}

TEST_CASE("every problem is reported, not only the first") {
  const std::string text = kBase + kEvent + "probability = 2\njitter_months = -1\n";
  CHECK(errors_of(text).size() == 2);
}

TEST_CASE("too few or too many agents, and an agent without interests, are errors at an agent's id") {
  // The base without BB and CC: the count of agents is checked before anything refers to them.
  std::string one = kBase;
  const auto bb = one.find("[[agents]]\nid = \"BB\"");
  one.erase(bb, one.find("[[issues]]") - bb);
  check_error(one, "id = \"AA\"", "a scenario needs 2 to 16 [[agents]], found 1");
  std::string many = kBase;
  for (int k = 0; k < 14; ++k) {
    const std::string id = "X" + std::string(1, static_cast<char>('A' + k));
    many += "[[agents]]\nid = \"" + id + "\"\nname = \"" + id + "\"\ncapability = 0.1\n";
  }
  check_error(many, "id = \"XN\"", "a scenario needs 2 to 16 [[agents]], found 17");  // the 17th
  check_error(kBase + "[[agents]]\nid = \"DD\"\nname = \"Dacia\"\ncapability = 0.1\n", "id = \"DD\"",
              "agent 'DD' has no interest for issue 'ideology'");
}
