#pragma once
/// Writes a Scenario back as one self-contained TOML document (no includes): the resolved scenario
/// that output files store and that `alignsim resolve` prints. Loading it gives the same Scenario.

#include <string>

#include "Scenario.hpp"

namespace alignsim {

std::string to_toml(const Scenario& s);

/// One event as its own [[events]] block (with a leading blank line).
std::string to_toml(const Scenario& s, const Event& e);
/// One choice as a [[choices]] table.
std::string to_toml(const Scenario& s, const Choice& c);

}  // namespace alignsim
