// Reading TOML files within limits (scenario/TomlFile.hpp): folders, missing files, size, nesting,
// line length and encoding are diagnostics with a place, never a crash.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/TomlFile.hpp"

using namespace alignsim;
using namespace alignsim::detail;
namespace fs = std::filesystem;

namespace {

std::vector<Diagnostic> problems(const std::string& text) {
  Diagnostics d;
  const auto root = parse_toml_text(text, "t.toml", d);
  try {
    d.throw_if_any();
  } catch (const ScenarioError& e) {
    CHECK_FALSE(root.has_value());
    return e.diagnostics();
  }
  CHECK(root.has_value());
  return {};
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += s;
  return out;
}

}  // namespace

TEST_CASE("nesting is counted over arrays, inline tables and dotted keys, not inside strings or comments") {
  CHECK(too_deep("a = 1\n[b.c]\nd = [[1, 2], [3]]\ne = { f = { g = 1 } }\n") == std::pair{0, 0});
  CHECK(too_deep("x = \"" + repeat("[{", 100) + "\"\n# " + repeat("[", 100) + "\ny = '" + repeat("{", 40) + "'\n") ==
        std::pair{0, 0});
  CHECK(too_deep("x = \"\"\"\n" + repeat("[", 100) + "\n\"\"\"\n") == std::pair{0, 0});
  CHECK(too_deep("v = 1.5\nw = 1979-12-27T10:00:00.5\n" + repeat("[[t]]\n", 50)) == std::pair{0, 0});
  // 32 levels pass, 33 do not; the place is the bracket or dot that goes too deep.
  CHECK(too_deep("x = " + repeat("[", 32) + repeat("]", 32) + "\n") == std::pair{0, 0});
  CHECK(too_deep("x = " + repeat("[", 33) + repeat("]", 33) + "\n") == std::pair{1, 37});
  CHECK(too_deep("\n\nx = " + repeat("{a=", 40) + "1" + repeat("}", 40)).first == 3);
  CHECK(too_deep(repeat("a.", 31) + "a = 1\n") == std::pair{0, 0});
  CHECK(too_deep(repeat("a.", 32) + "a = 1\n") == std::pair{1, 64});
  CHECK(too_deep("[" + repeat("a.", 40) + "a]\n").first == 1);
  CHECK(too_deep("x = [{ " + repeat("k.", 40) + "k = 1 }]\n").first == 1);
}

TEST_CASE("text nested too deep, lines too long, text over the size limit and non-UTF-8 text are refused with a place") {
  auto d = problems("x = 1\ny = " + repeat("{a=", 5000) + "1" + repeat("}", 5000) + "\n");
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);
  CHECK(d[0].message.find("nested more than 32 levels deep") != std::string::npos);

  d = problems("x = 1\n" + repeat("a.", 100000) + "a = 1\n");
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);

  d = problems("ok = 1\nx = [" + repeat("1, ", 2000) + "1]\n");
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);
  CHECK(d[0].column == 4097);
  CHECK(d[0].message.find("a line longer than 4096 bytes") != std::string::npos);
  CHECK(problems("note = \"\"\"\n" + repeat(repeat("word ", 200) + "\n", 50) + "\"\"\"\n").empty());

  d = problems(repeat("k" + std::string(20, 'x') + " = 1\n", 1) + repeat("# " + std::string(1000, '-') + "\n", 4200));
  REQUIRE(d.size() == 1);
  CHECK(d[0].message.find("too large") != std::string::npos);

  d = problems("a = \"fine\"\nb = \"caf\xe9\"\n");  // Latin-1, not UTF-8
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);
  CHECK(d[0].column == 9);
  CHECK(d[0].message.find("not UTF-8") != std::string::npos);
  CHECK(problems("a = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n").empty());
  CHECK(problems("a = \"\xed\xa0\x80\"\n").size() == 1);  // a UTF-16 surrogate
  CHECK(problems("a = \"\xc0\xaf\"\n").size() == 1);      // an overlong encoding
}

TEST_CASE("a folder, a missing file, an empty extends and a file over the size limit are errors naming the place") {
  const auto dir = fs::temp_directory_path() / ("alignsim_toml_file_" + std::to_string(getpid()));
  fs::create_directories(dir / "folder");
  const auto errors = [&](const fs::path& p) {
    try {
      load_scenario(p);
    } catch (const ScenarioError& e) {
      return e.diagnostics();
    }
    return std::vector<Diagnostic>{};
  };
  auto d = errors(dir / "folder");
  REQUIRE(d.size() == 1);
  CHECK(d[0].message.find("it is a folder, not a file") != std::string::npos);

  std::ofstream(dir / "includes_folder.toml") << "# a scenario\ninclude = [\"folder\"]\n";
  d = errors(dir / "includes_folder.toml");
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 2);
  CHECK(d[0].message.find("'" + (dir / "folder").string() + "': it is a folder") != std::string::npos);

  std::ofstream(dir / "extends_nothing.toml") << "extends = \"\"\n";
  d = errors(dir / "extends_nothing.toml");
  REQUIRE(d.size() == 1);
  CHECK(d[0].line == 1);
  CHECK(d[0].message.find("'extends' is empty") != std::string::npos);

  std::ofstream(dir / "extends_folder.toml") << "extends = \".\"\n";
  CHECK(errors(dir / "extends_folder.toml").at(0).message.find("it is a folder") != std::string::npos);

  // The limit is on a scenario's files together: two files of 3 MiB each are too many.
  const std::string filler = repeat("# " + std::string(1022, '-') + "\n", 3 * 1024);
  std::ofstream(dir / "half.toml") << filler;
  std::ofstream(dir / "other_half.toml") << filler;
  std::ofstream(dir / "whole.toml") << "include = [\"half.toml\", \"other_half.toml\"]\n";
  d = errors(dir / "whole.toml");
  REQUIRE(!d.empty());
  CHECK(d[0].line == 1);
  CHECK(d[0].message.find("other_half.toml': too large") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("past 100 problems only their number is kept, so a file full of errors is reported in linear time") {
  std::string text = "[scenario]\nname = \"x\"\ntitle = \"x\"\n";
  for (int k = 0; k < 5000; ++k) text += "[[agents]]\nid = \"bad id " + std::to_string(k) + "\"\n";
  try {
    load_scenario_text(text, "many.toml");
    FAIL("accepted");
  } catch (const ScenarioError& e) {
    REQUIRE(e.diagnostics().size() == Diagnostics::kMaxDiagnostics + 1);
    CHECK(e.diagnostics().back().message.find("more error(s); only the first 100 are listed") != std::string::npos);
  }
}
