#pragma once
/// The scenario as plain, validated data: what a TOML scenario says, with every reference resolved
/// to an index. Built once by ScenarioLoader; every run reads it through a const reference.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Month.hpp"

namespace alignsim {

/// Classes of act: the decisions of one class share one response multiplier (docs/model.md).
inline constexpr int kActClasses = 8;
/// The name of act class c ("contact", "agreement", "aid", "arms", "alliance", "un_vote",
/// "statement", "force").
const char* act_class_name(int c);
/// The act class of an event kind, or -1 for kinds that are not an agent's act (founding,
/// succession, collapse).
int act_class_of(const std::string& kind);

/// The model parameters of docs/model.md, with their defaults. Every one of them is described once,
/// with its range and calibration bounds, in parameter_table().
struct Parameters {
  Month start = Month::of(1947, 8);  ///< first simulated month
  Month end = Month::of(2000, 12);   ///< last simulated month (inclusive)
  double k_a = 0.05;          ///< interest pull toward affinity, per month, [0, 1]
  double k_r = 0.10;          ///< reciprocity, per month, [0, 1]
  double k_b = 0.05;          ///< capability-weighted structural balance, per month, [0, 1]
  double sigma = 0.02;        ///< sd of the monthly alignment noise, >= 0
  double shock_scale = 0.02;  ///< alignment units per Goldstein point, >= 0
  double k_p = 0.0;           ///< influence: positions move toward consistency with alignment, per month
  double k_0 = 0.0;           ///< anchoring: positions move back toward their anchors, per month
  std::array<double, kActClasses> response{1, 1, 1, 1, 1, 1, 1, 1};  ///< per act class, multiplies a logit's terms

  int months() const { return end - start + 1; }
};

/// One row of the parameter table: a model parameter, described once for the loader, the writer,
/// calibration, sensitivity analysis and the help texts.
struct ParameterInfo {
  std::string name;         ///< key in [parameters], e.g. "k_a" or "response_aid"
  double lo = 0, hi = 1;    ///< valid range
  double fit_lo = 0, fit_hi = 1;  ///< default bounds for calibration and sensitivity
  std::string meaning;      ///< one line, with its unit
  double& (*ref)(Parameters&) = nullptr;

  double get(const Parameters& p) const { return ref(const_cast<Parameters&>(p)); }
  void set(Parameters& p, double x) const { ref(p) = x; }
};

/// Every model parameter, in a fixed order (the order of the kernel's per-run parameter vector).
const std::vector<ParameterInfo>& parameter_table();
/// The row of the parameter with this name, or nullptr.
const ParameterInfo* find_parameter(const std::string& name);

struct Agent {
  std::string id;        ///< short id, e.g. "PK"
  std::string name;      ///< display name at the start (events may rename)
  double capability{};   ///< weight as a third party, > 0
  std::string note;      ///< justification (free text)
  int ccode = 0;         ///< Correlates of War state code (e.g. 770 for Pakistan); 0: none given
};

struct Issue {
  std::string id;
  std::string meaning;
};

/// Agent i's interest in one issue: position in [-1, 1], salience >= 0 (normalised per agent).
struct Interest {
  double position{};
  double salience{};
  std::string note;
};

/// A named span of months over which outputs are averaged per run (e.g. for comparisons).
struct Era {
  std::string id;
  std::string title;
  Month from;
  Month to;  ///< inclusive
};

/// An explicit starting alignment W[from, to]; by default W starts at the interest affinity A.
struct InitialAlignment {
  int from{};
  int to{};
  double value{};
};

/// An alignment shock N(mean, sd) added to W[from, to] (and W[to, from] when both_ways: same draw).
struct Shock {
  int from{};
  int to{};
  std::optional<double> goldstein;  ///< when set, mean = goldstein * shock_scale
  double mean{};                    ///< used when goldstein is not set
  double sd{};
  bool both_ways = false;

  double effective_mean(const Parameters& p) const { return goldstein ? *goldstein * p.shock_scale : mean; }
};

/// A change of one agent's interest in one issue.
struct Shift {
  int agent{};
  int issue{};
  std::optional<double> position;        ///< set the position
  std::optional<double> position_delta;  ///< or move it (clamped to [-1, 1])
  std::optional<double> salience;        ///< set the raw salience
  std::optional<double> salience_delta;  ///< or move it (clamped at 0)
  bool durable = true;  ///< the anchor moves with the position (absolute settings always set both)
};

struct CapabilityChange {
  int agent{};
  std::optional<double> value;   ///< set the capability
  std::optional<double> factor;  ///< or multiply it
};

struct Rename {
  int agent{};
  std::string name;
};

struct DyadCoefficient {
  int a{};
  int b{};
  double coef{};
};

/// A term on an agent's position on an issue.
struct InterestCoefficient {
  int agent{};
  int issue{};
  double coef{};
};

struct EventCoefficient {
  int event{};  ///< index into Scenario::events
  double coef{};
};

/// The logit of a decision or of a choice's option (docs/model.md):
/// eta = b0 + response[class] * (sum coef M[a,b] + sum coef p[agent, issue] + sum coef [event happened]
///                               + sum coef ln(c_a / c_b)).
/// For a standalone decision, P = logistic(eta) is the probability of acting within [from, to]
/// were the state constant. An option of a choice takes its window from the choice.
struct Decision {
  bool windowed = false;  ///< a standalone decision has its window; an option takes the choice's
  Month from;
  Month to;
  double b0{};
  std::vector<DyadCoefficient> dyads;
  std::vector<InterestCoefficient> interests;
  std::vector<EventCoefficient> after;
  std::vector<DyadCoefficient> power;  ///< coef * ln(c_a / c_b)
  std::string near_certain;            ///< why the essay makes the act near-certain (may exceed 0.97), or empty
};

/// Mutually exclusive acts, one multinomial logit with "none" at 0, made at most once in [from, to].
struct Choice {
  std::string id;
  std::string title;
  int actor = -1;
  Month from;
  Month to;
  std::vector<int> source;
  std::string note;
  std::vector<int> options;  ///< indices into Scenario::events
  int forced = -1;           ///< index into Scenario::events of an option that happens at its date, or -1
  std::vector<int> excluded;  ///< options that cannot be chosen
};

struct Event {
  std::string id;
  Month date;               ///< historical (scheduled) date
  std::string title;
  std::string kind;
  std::vector<int> actors;  ///< agent indices
  std::vector<int> source;  ///< paragraph numbers in the source essay
  std::string note;
  double probability = 1.0;  ///< scheduled events only
  int jitter_months = 0;     ///< scheduled events only
  std::vector<int> required;  ///< event indices that must have happened (`requires`)
  std::vector<int> excluded;  ///< event indices that must not have happened (`excludes`)
  std::optional<Decision> decision;  ///< a decision, or an option of a choice
  int choice = -1;                   ///< index into Scenario::choices when an option of one
  bool context = false;              ///< a turning point from outside the essay (needs `reference`)
  std::string reference;             ///< for context events: the standard work it rests on
  std::string exogenous;             ///< for scheduled events: why it lies outside the agents' choices
  std::vector<Shock> shocks;
  std::vector<Shift> shifts;
  std::vector<CapabilityChange> capabilities;
  std::vector<Rename> renames;

  bool is_decision() const { return decision.has_value(); }
  bool is_option() const { return choice >= 0; }
};

/// A complete, validated scenario.
struct Scenario {
  std::string name;
  std::string title;
  std::string description;
  std::string question;     ///< for a counterfactual: the question it asks
  std::vector<int> source;  ///< for a counterfactual: the essay's paragraphs it rests on
  std::string path;  ///< the entry file it was loaded from (empty when built in code)
  /// For an overlay, the scenarios a comparison may take as its baseline, nearest first: the one it
  /// extends and, while that one is itself a counterfactual (it has a `question`), the one that one
  /// extends, up to the first that is not. By name, and by the 64-bit FNV-1a hash (16 hex digits) of
  /// each one's resolved TOML (to_toml, the text a run of it stores). Empty when it extends nothing.
  std::vector<std::string> base, base_fnv1a;
  Parameters parameters;
  std::vector<Agent> agents;
  std::vector<Issue> issues;
  std::vector<std::vector<Interest>> interests;  ///< [agent][issue]
  std::vector<InitialAlignment> initial_alignment;
  std::vector<Event> events;
  std::vector<Choice> choices;
  std::vector<Era> eras;

  int agent_count() const { return static_cast<int>(agents.size()); }
  int issue_count() const { return static_cast<int>(issues.size()); }
  int event_count() const { return static_cast<int>(events.size()); }
  /// Index of the agent / issue / event with this id, or -1.
  int agent_index(const std::string& id) const;
  int issue_index(const std::string& id) const;
  int event_index(const std::string& id) const;
  int choice_index(const std::string& id) const;
};

/// The event kinds a scenario may use.
const std::vector<std::string>& event_kinds();

}  // namespace alignsim
