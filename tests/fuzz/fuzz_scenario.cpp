// libFuzzer target: the scenario loader on any bytes, as a scenario file on disk (so the reading
// layer's limits are exercised too). It must either load a scenario or throw ScenarioError: any
// other exception, a crash, a sanitizer report, or time and memory beyond libFuzzer's limits is a
// bug. A scenario that loads must load again from its resolved form (`alignsim resolve`), equal,
// and compile into a model. docs/reliability.md tells how to run it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "model/Model.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

namespace {

/// A folder of this process holding the input as scenario.toml; includes resolve beside it.
const std::filesystem::path& folder() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("alignsim_fuzz_scenario_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Includes of devices, pipes and kernel files could block or read without end: a user may name
  // them (reading stops at the size limit), a fuzzer must not wait on them.
  for (const char* place : {"dev/", "proc/", "sys/", "run/", "fd/"}) {
    if (text.find(place) != std::string::npos) return -1;
  }
  const auto path = folder() / "scenario.toml";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  alignsim::Scenario s;
  try {
    s = alignsim::load_scenario(path);
  } catch (const alignsim::ScenarioError&) {
    return 0;
  }
  const std::string resolved = alignsim::to_toml(s);
  try {
    if (alignsim::to_toml(alignsim::load_scenario_text(resolved, "resolved.toml")) != resolved) std::abort();
  } catch (const alignsim::ScenarioError&) {
    std::abort();  // the resolved form of a valid scenario must be valid
  }
  const alignsim::Model model(s);
  return 0;
}
