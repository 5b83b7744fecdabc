// The rule every output follows (io/OutputPath.hpp), on real files, folders, links, devices and
// signals.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "io/OutputPath.hpp"
#include "io/StopSignals.hpp"

using namespace alignsim;
namespace fs = std::filesystem;

namespace {

/// The folder of this process's test cases, removed when it ends (forked children end with _exit).
struct Root {
  fs::path path = fs::temp_directory_path() / ("alignsim_test_output_path_" + std::to_string(getpid()));
  ~Root() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& root() {
  static const Root r;
  return r.path;
}

/// A fresh, empty folder for one test case.
fs::path fresh_dir(const std::string& name) {
  const auto dir = root() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

template <class Error>
std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an output is written under a temporary name in its folder and appears only when committed") {
  const auto dir = fresh_dir("commit");
  const auto final_path = dir / "out.csv";
  {
    OutputPath out(final_path, {}, false, "--csv");
    CHECK(out.temp_path().parent_path() == dir);
    CHECK(out.temp_path().filename().string().rfind(".out.csv", 0) == 0);
    CHECK(fs::exists(out.temp_path()));
    CHECK_FALSE(fs::exists(final_path));
    write_text_output(out, "a,b\n1,2\n");
    CHECK(out.committed());
  }
  CHECK(read(final_path) == "a,b\n1,2\n");
  CHECK(names_in(dir) == std::vector<std::string>{"out.csv"});
}

TEST_CASE("an output abandoned uncommitted leaves neither its file nor a temporary file") {
  const auto dir = fresh_dir("abandon");
  {
    OutputPath out(dir / "out.h5", {}, false);
    write(out.temp_path(), "half a file");
  }
  CHECK(names_in(dir).empty());
}

TEST_CASE("an existing file is refused unless overwrite is given, and then keeps its permissions") {
  const auto dir = fresh_dir("existing");
  const auto p = dir / "result.csv";
  write(p, "precious");
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  const auto refused = message_of<OutputRefused>([&] { OutputPath out(p, {}, false, "--csv"); });
  CHECK(refused.find("--csv '" + p.string() + "' exists; pass --overwrite") != std::string::npos);
  CHECK(read(p) == "precious");
  CHECK(names_in(dir) == std::vector<std::string>{"result.csv"});
  {
    OutputPath out(p, {}, true);
    write_text_output(out, "new");
  }
  CHECK(read(p) == "new");
  CHECK(fs::status(p).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_CASE("a read-only file is never replaced, even with overwrite") {
  const auto dir = fresh_dir("read_only");
  const auto p = dir / "week_of_runs.h5";
  write(p, "precious");
  fs::permissions(p, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto refused = message_of<OutputRefused>([&] { OutputPath out(p, {}, true, "--out"); });
  CHECK(refused.find("is read-only") != std::string::npos);
  CHECK(read(p) == "precious");
  CHECK((fs::status(p).permissions() & fs::perms::owner_write) == fs::perms::none);
}

TEST_CASE("an input of the command is refused even with overwrite, by any name that reaches it") {
  const auto dir = fresh_dir("input");
  const auto scenario = dir / "scenario.toml";
  const auto included = dir / "events.toml";
  write(scenario, "include = [\"events.toml\"]\n");
  write(included, "# events\n");
  fs::create_hard_link(included, dir / "hard_link.toml");
  fs::create_symlink("scenario.toml", dir / "soft_link.toml");
  const std::vector<fs::path> inputs = {scenario, included};
  for (const auto& p : {scenario, included, dir / "hard_link.toml", dir / "soft_link.toml", dir / "." / "events.toml"}) {
    CAPTURE(p);
    const auto refused = message_of<OutputRefused>([&] { OutputPath out(p, inputs, true, "--out"); });
    CHECK(refused.find("is an input of this command") != std::string::npos);
  }
  CHECK(read(scenario) == "include = [\"events.toml\"]\n");
  CHECK(read(included) == "# events\n");
}

TEST_CASE("only regular files are written: folders, devices and pipes are refused") {
  const auto dir = fresh_dir("special");
  fs::create_directory(dir / "folder");
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  const std::pair<fs::path, std::string> cases[] = {{dir / "folder", "is a folder"},
                                                    {dir / "folder" / "", "names a folder"},
                                                    {"/dev/null", "is a character device"},
                                                    {dir / "pipe", "is a named pipe"},
                                                    {"", "an empty path"}};
  for (const auto& [p, why] : cases) {
    CAPTURE(p);
    const auto refused = message_of<OutputRefused>([&] { OutputPath out(p, {}, true, "--out"); });
    CHECK(refused.find(why) != std::string::npos);
  }
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

TEST_CASE("a symbolic link to a file is written through: the link still names the new file") {
  const auto dir = fresh_dir("link");
  write(dir / "target.csv", "old");
  fs::create_symlink("target.csv", dir / "link.csv");
  {
    OutputPath out(dir / "link.csv", {}, true);
    write_text_output(out, "new");
  }
  CHECK(fs::is_symlink(dir / "link.csv"));
  CHECK(read(dir / "target.csv") == "new");
  fs::create_symlink("missing.csv", dir / "dangling.csv");
  CHECK(message_of<OutputRefused>([&] { OutputPath out(dir / "dangling.csv", {}, true); }).find("does not exist") !=
        std::string::npos);
}

TEST_CASE("a name of 255 bytes, the longest there is, is written; a longer one is refused before any work") {
  const auto dir = fresh_dir("long");
  const std::string name = std::string(251, 'n') + ".csv";
  REQUIRE(name.size() == 255);
  {
    OutputPath out(dir / name, {}, false);
    CHECK(out.temp_path().filename().string().size() <= 255);
    write_text_output(out, "x");
  }
  CHECK(read(dir / name) == "x");
  // Multi-byte characters are cut whole in the temporary name.
  std::string wide;
  while (wide.size() + 2 <= 250) wide += "\xc3\xa9";  // é
  {
    OutputPath out(dir / (wide + ".h5"), {}, false);
    const std::string temp = out.temp_path().filename().string();
    CHECK(temp.size() <= 255);
    const auto at = temp.find(".tmp-alignsim-");
    REQUIRE(at != std::string::npos);
    CHECK((temp.substr(1, at - 1).size() % 2) == 0);
  }
  const auto refused = message_of<OutputRefused>([&] { OutputPath out(dir / (std::string(252, 'n') + ".csv"), {}, false); });
  CHECK(refused.find("256 bytes long") != std::string::npos);
}

TEST_CASE("a missing folder is an error writing, not a refusal") {
  const auto dir = fresh_dir("missing");
  const auto p = dir / "no" / "such" / "out.h5";
  std::string message;
  bool refused = false;
  try {
    OutputPath out(p, {}, false);
  } catch (const OutputRefused&) {
    refused = true;
  } catch (const OutputError& e) {
    message = e.what();
  }
  CHECK_FALSE(refused);
  CHECK(message.find("folder '" + (dir / "no" / "such").string() + "' does not exist") != std::string::npos);
}

TEST_CASE("two outputs of one command cannot be the same file") {
  const auto dir = fresh_dir("twice");
  OutputPath first(dir / "table.csv", {}, true, "--csv");
  const auto refused = message_of<OutputRefused>([&] { OutputPath second(dir / "." / "table.csv", {}, true, "--h5"); });
  CHECK(refused.find("--h5") != std::string::npos);
  CHECK(refused.find("another output of this command") != std::string::npos);
}

TEST_CASE("a file that appears at the final path while the command works is left as it is") {
  const auto dir = fresh_dir("appeared");
  OutputPath out(dir / "out.csv", {}, false);
  write(dir / "out.csv", "someone else's");
  CHECK_THROWS_AS(write_text_output(out, "mine"), OutputError);
  CHECK(read(dir / "out.csv") == "someone else's");
  CHECK(names_in(dir) == std::vector<std::string>{"out.csv"});
}

TEST_CASE("temporary files of alignsim processes that no longer run are found; live ones are not") {
  const auto dir = fresh_dir("stale");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);  // its pid now names no process (until reused, unlikely within the test)
  const std::string dead = std::to_string(child);
  write(dir / (".a.h5.tmp-alignsim-" + dead + "-0"), "");
  write(dir / (".b.h5.tmp-" + dead), "");  // the name earlier versions used
  write(dir / (".c.h5.tmp-alignsim-" + std::to_string(getpid()) + "-0"), "");
  write(dir / ("d.h5.tmp-alignsim-" + dead + "-0"), "");  // not hidden: not one of ours
  write(dir / "e.h5", "");
  const auto stale = OutputPath::stale_temporaries(dir);
  REQUIRE(stale.size() == 2);
  CHECK(stale[0].filename() == ".a.h5.tmp-alignsim-" + dead + "-0");
  CHECK(stale[1].filename() == ".b.h5.tmp-" + dead);
}

TEST_CASE("a terminating signal removes the temporary files and ends the program as the signal would") {
  const auto dir = fresh_dir("signal");
  for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGABRT}) {
    CAPTURE(sig);
    const pid_t child = ::fork();
    if (child == 0) {
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::signal(sig, SIG_DFL);  // the test framework's own handler would report a crash
      OutputPath out(dir / "out.h5", {}, false);
      write(out.temp_path(), "half a file");
      ::raise(sig);
      ::_exit(99);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(names_in(dir).empty());
  }
}

TEST_CASE("with StopSignals, SIGINT, SIGTERM and SIGHUP only ask the command to stop, however many arrive") {
  const auto dir = fresh_dir("stop");
  const pid_t child = ::fork();
  if (child == 0) {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    std::atomic<bool> stop{false};
    StopSignals signals(stop);
    OutputPath out(dir / "partial.h5", {}, false);
    ::raise(SIGINT);
    ::raise(SIGTERM);  // a second signal while the first is being handled
    ::raise(SIGHUP);
    if (!stop.load() || StopSignals::received() != SIGHUP) ::_exit(3);
    write_text_output(out, "the runs done");
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(names_in(dir) == std::vector<std::string>{"partial.h5"});
}

TEST_CASE("a signal the program was started with ignored (nohup) stays ignored") {
  const auto dir = fresh_dir("nohup");
  const pid_t child = ::fork();
  if (child == 0) {
    ::signal(SIGHUP, SIG_IGN);
    OutputPath out(dir / "out.h5", {}, false);
    ::raise(SIGHUP);
    write_text_output(out, "done");
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(names_in(dir) == std::vector<std::string>{"out.h5"});
}
