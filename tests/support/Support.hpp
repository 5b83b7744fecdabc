#pragma once
/// Helpers shared by the tests: scenarios written inline and whole runs simulated one by one.

#include <cstdint>
#include <string>
#include <vector>

#include "model/Batch.hpp"
#include "scenario/Scenario.hpp"

namespace alignsim::test {

/// A scenario from TOML text (throws ScenarioError like the loader).
Scenario scenario_from(const std::string& toml);

/// The three-agent header used by many tests: agents AA, BB, CC with capabilities 0.5, 0.3, 0.2,
/// two issues, horizon 1950-01..(1950-01 + months - 1), and the given parameter lines.
std::string three_agents(const std::string& parameters, int months = 24);

/// One run: W and positions after each month ([t][i * N + j], [t][i * D + d]), and the month each
/// event fired (scenario order).
struct Run {
  std::vector<float> W;
  std::vector<float> position;
  std::vector<int> event_month;
  float at(int t, int i, int j, int n) const { return W[static_cast<std::size_t>(t) * n * n + i * n + j]; }
  float position_at(int t, int i, int d, int n, int issues) const {
    return position[(static_cast<std::size_t>(t) * n + i) * issues + d];
  }
};

/// Runs first .. first + count - 1 of a model, each simulated through the batch kernel (with a
/// parameter vector per run when a plan is given).
std::vector<Run> simulate(const Model& model, std::uint64_t seed, std::uint64_t first, int count,
                          const ParameterPlan* plan = nullptr);

}  // namespace alignsim::test
