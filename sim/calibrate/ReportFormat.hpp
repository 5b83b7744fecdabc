#pragma once
/// Number formatting shared by the calibration reports (Report.cpp, PosteriorReport.cpp).

#include <cmath>
#include <cstdio>
#include <string>

namespace alignsim::report_format {

/// A number for a Markdown table: "+inf"/"-inf", "" for NaN, else printf's `format`.
inline std::string fmt(double x, const char* format = "%.3f") {
  if (std::isinf(x)) return x > 0 ? "+inf" : "-inf";
  if (std::isnan(x)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

/// A number for JSON: 10 significant digits, null when not finite.
inline std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

}  // namespace alignsim::report_format
