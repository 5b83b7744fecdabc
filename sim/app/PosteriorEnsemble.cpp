#include "PosteriorEnsemble.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "Commands.hpp"
#include "io/OutputPath.hpp"
#include "scenario/ScenarioError.hpp"

namespace alignsim::app {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

/// "k_a, b0:x and 3 more" for a message.
std::string some(const std::vector<std::string>& names, std::size_t shown = 6) {
  std::string out;
  for (std::size_t k = 0; k < names.size() && k < shown; ++k) out += (k ? ", " : "") + names[k];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

}  // namespace

std::optional<PosteriorEnsemble> posterior_ensemble(const std::string& path, const Model& model, std::uint64_t seed,
                                                    bool quiet, bool report) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  PosteriorEnsemble out;
  try {
    if (!in) load_posterior(path);  // throws, naming the file and why
    out.posterior = load_posterior_text(text.str(), path);
  } catch (const ScenarioError& e) {
    if (report) report_errors(e, "posterior file", path);
    return std::nullopt;
  }
  out.plan = std::make_unique<PosteriorPlan>(out.posterior, model, seed);
  if (out.plan->kept().size() == model.theta().size()) {
    if (report) std::cerr << "alignsim: the posterior file '" << path << "' gives none of the scenario's parameters or intercepts\n";
    return std::nullopt;
  }
  out.info.path = shown_path(path);
  out.info.sha256 = sha256_hex(text.str());
  out.info.draws = out.posterior.values.size();
  out.info.kept = joined(out.plan->kept());
  out.info.unused = joined(out.plan->unused());
  const PosteriorPlan* plan = out.plan.get();
  out.info.run_draw = [plan](std::uint64_t run) { return static_cast<std::int64_t>(plan->draw(run)); };
  if (!quiet) {
    std::cerr << "alignsim: each run takes one of the " << out.info.draws << " parameter sets of '" << path << "'\n";
    if (!out.plan->kept().empty()) {
      std::cerr << "alignsim: the posterior does not give " << out.plan->kept().size()
                << " of the scenario's numbers, which keep the scenario's values: " << some(out.plan->kept()) << "\n";
    }
    if (!out.plan->unused().empty()) {
      std::cerr << "alignsim: the scenario has no " << out.plan->unused().size()
                << " of the posterior's numbers, which are not used: " << some(out.plan->unused()) << "\n";
    }
  }
  return out;
}

}  // namespace alignsim::app
