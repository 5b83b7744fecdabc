#pragma once
/// Command-line checks that accept exactly what they say. CLI11's own conversions accept " 12",
/// "0x10" and "1e3", wrap "-1" around to 2^64 - 1 and clamp 2^64 to it, and its ranges let NaN
/// through: a seed or a quantile would then silently differ from the one the user meant.

#include <CLI/CLI.hpp>

#include <cstdint>

namespace alignsim::app {

/// Decimal digits only, a value in [lo, hi]: "expected an integer in [lo, hi], found '...'".
CLI::Validator integer_in(std::uint64_t lo, std::uint64_t hi);

/// A finite decimal number in [lo, hi] (no NaN, no infinity, no trailing text).
CLI::Validator number_in(double lo, double hi);

}  // namespace alignsim::app
