#include "Support.hpp"

#include <algorithm>

#include "scenario/ScenarioLoader.hpp"

namespace alignsim::test {

Scenario scenario_from(const std::string& toml) { return load_scenario_text(toml, "test.toml"); }

std::string three_agents(const std::string& parameters, int months) {
  const Month end = Month::of(1950, 1) + (months - 1);
  return R"(
[scenario]
name = "test"
title = "test"
[parameters]
start = "1950-01"
end = ")" + end.str() + "\"\n" + parameters + R"(
[[agents]]
id = "AA"
name = "Atlantis"
capability = 0.5
[[agents]]
id = "BB"
name = "Borduria"
capability = 0.3
[[agents]]
id = "CC"
name = "Carpathia"
capability = 0.2
[[issues]]
id = "ideology"
meaning = "-1 planned, +1 market"
[[issues]]
id = "security"
meaning = "-1 with AA, +1 with BB"
[interests.AA]
ideology = { position = 1.0, salience = 0.6 }
security = { position = -1.0, salience = 0.4 }
[interests.BB]
ideology = { position = -1.0, salience = 0.7 }
security = { position = 1.0, salience = 0.3 }
[interests.CC]
ideology = { position = 0.2, salience = 0.5 }
security = { position = 0.0, salience = 0.5 }
)";
}

namespace {
class Recorder final : public BatchObserver {
 public:
  Recorder(const Model& m, std::vector<Run>& runs, int offset) : m_(m), runs_(runs), offset_(offset) {}
  void on_month(int t, const BatchState& s) override {
    const int nn = m_.agents() * m_.agents();
    const int nd = m_.agents() * m_.issues();
    for (int l = 0; l < s.valid; ++l) {
      auto& run = runs_[offset_ + l];
      for (int c = 0; c < nn; ++c) run.W[static_cast<std::size_t>(t) * nn + c] = s.W[c][l];
      for (int c = 0; c < nd; ++c) run.position[static_cast<std::size_t>(t) * nd + c] = s.position[c][l];
    }
  }

 private:
  const Model& m_;
  std::vector<Run>& runs_;
  int offset_;
};
}  // namespace

std::vector<Run> simulate(const Model& model, std::uint64_t seed, std::uint64_t first, int count,
                          const ParameterPlan* plan) {
  std::vector<Run> runs(count);
  const int nn = model.agents() * model.agents();
  for (auto& r : runs) {
    r.W.assign(static_cast<std::size_t>(model.months()) * nn, 0.0f);
    r.position.assign(static_cast<std::size_t>(model.months()) * model.agents() * model.issues(), 0.0f);
    r.event_month.assign(model.events(), -1);
  }
  BatchState state(model);
  for (int offset = 0; offset < count; offset += kLanes) {
    const int valid = std::min(kLanes, count - offset);
    Recorder recorder(model, runs, offset);
    simulate_batch(model, seed, first + static_cast<std::uint64_t>(offset), valid, state, recorder, plan);
    for (int e = 0; e < model.events(); ++e) {
      for (int l = 0; l < valid; ++l) runs[offset + l].event_month[e] = state.fired[model.position_of_event()[e]][l];
    }
  }
  return runs;
}

}  // namespace alignsim::test
