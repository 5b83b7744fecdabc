#pragma once
/// Reads a TOML scenario (with its includes) into a validated Scenario, or throws ScenarioError
/// listing every problem with its file, line and column. The format is docs/scenario-format.md.

#include <filesystem>
#include <string>
#include <vector>

#include "Scenario.hpp"

namespace alignsim {

/// Loads the scenario whose entry file is `path`, following `include`s relative to each file.
/// `files`, if given, receives every file read (even when the scenario has errors), so that a
/// command can refuse to write over any of them.
Scenario load_scenario(const std::filesystem::path& path, std::vector<std::filesystem::path>* files = nullptr);

/// Loads a scenario from TOML text; `name` stands for the file in messages and `include`s are
/// resolved relative to `base_dir`.
Scenario load_scenario_text(const std::string& text, const std::string& name,
                            const std::filesystem::path& base_dir = ".");

}  // namespace alignsim
