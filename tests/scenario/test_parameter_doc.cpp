// docs/model.md's table of parameters says what the code holds: every parameter, its range and its
// default, and nothing the code does not have.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "scenario/Scenario.hpp"

using namespace alignsim;

TEST_CASE("docs/model.md's parameter table matches the code's parameters, ranges and defaults") {
  std::ifstream in(ALIGNSIM_DOCS "/model.md");
  REQUIRE(in.good());
  // Rows such as: | `k_a` | meaning | [0, 1] | 0.05 |  and the one for every response multiplier:
  // | `response_contact` … `response_force` | meaning | [0, 20] | 1 |
  const std::regex row(R"(^\| `(\w+)`(?: … `(\w+)`)? \| [^|]+ \| \[([0-9.]+), ([0-9.]+)\] \| ([0-9.]+) \|$)");
  const Parameters defaults{};
  std::set<std::string> documented;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    const bool span = m[2].matched;
    for (const auto& info : parameter_table()) {
      const bool covered = span ? info.name.rfind("response_", 0) == 0 : info.name == m[1].str();
      if (!covered) continue;
      INFO(info.name);
      documented.insert(info.name);
      CHECK(info.lo == std::stod(m[3].str()));
      CHECK(info.hi == std::stod(m[4].str()));
      CHECK(info.get(defaults) == doctest::Approx(std::stod(m[5].str())));
    }
    if (!span) CHECK_MESSAGE(documented.count(m[1].str()) == 1, "the doc lists '" << m[1].str() << "', which the code lacks");
  }
  for (const auto& info : parameter_table()) CHECK_MESSAGE(documented.count(info.name) == 1, info.name << " is not in the doc");
}
