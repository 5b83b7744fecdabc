#pragma once
/// Writes a Scenario back as one self-contained TOML document (no includes): the resolved scenario
/// that output files store and that `alignsim resolve` prints. Loading it gives the same Scenario.

#include <string>

#include "Scenario.hpp"

namespace alignsim {

std::string to_toml(const Scenario& s);

}  // namespace alignsim
