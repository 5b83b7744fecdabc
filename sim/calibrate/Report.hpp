#pragma once
/// The calibration report, in Markdown (for people) and JSON (for programs): the settings, the free
/// numbers before and after, each target and decision with its band, value and whether it is met,
/// before and after, and the loss over the evaluations.

#include <string>

#include "Calibrate.hpp"

namespace alignsim {

struct ReportInfo {
  std::string scenario_path;
  std::string targets_path;
  std::string overlay_path;  ///< the calibrated file written (empty: none)
  std::string command_line;
  std::string software;      ///< e.g. "alignsim 0.1.0 (abc1234)"
  CalibrationOptions options;
  std::vector<double> final_values;  ///< the values written (rounded)
  Evaluation final_evaluation;       ///< the calibrated scenario as written, re-evaluated
};

std::string report_markdown(const Scenario& s, const TargetSet& targets, const CalibrationResult& r, const ReportInfo& info);
std::string report_json(const Scenario& s, const TargetSet& targets, const CalibrationResult& r, const ReportInfo& info);

/// "PK-RU 1947-08..1953-12" and the like: what a target looks at.
std::string describe(const Scenario& s, const Target& t);

}  // namespace alignsim
