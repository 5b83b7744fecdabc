#pragma once
/// Sobol indices of one factor on one output from Saltelli's design (Saltelli et al. 2010): f(A),
/// f(B) and f(A_B^i) (A with column i from B) on the same rows. First order
/// S_i = mean(f(B) (f(A_B^i) - f(A))) / V, total ST_i = mean((f(A) - f(A_B^i))^2) / 2V (Jansen),
/// V the variance of f over A and B together; f centred on its mean over A and B first (as SALib
/// does: the same expectation, a far smaller variance when the mean is large beside the spread).

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

namespace alignsim::app {

struct SobolIndex {
  double first = std::nan("");  ///< S_i; NaN when f does not vary on these rows
  double total = std::nan("");  ///< ST_i
};

/// The indices over `rows` (indices into fa, fb, fab; repeated in a bootstrap resample).
inline SobolIndex sobol_index(const std::vector<double>& fa, const std::vector<double>& fb, const std::vector<double>& fab,
                              const std::vector<std::size_t>& rows) {
  double mean = 0;
  for (const std::size_t j : rows) mean += fa[j] + fb[j];
  const double n = static_cast<double>(rows.size());
  mean /= 2 * n;
  double variance = 0, first = 0, total = 0;
  for (const std::size_t j : rows) {
    const double a = fa[j] - mean, b = fb[j] - mean, ab = fab[j] - mean;
    variance += a * a + b * b;
    first += b * (ab - a);
    total += (a - ab) * (a - ab);
  }
  variance /= 2 * n;
  if (!(variance > 0)) return {};
  return {first / n / variance, total / (2 * n) / variance};
}

}  // namespace alignsim::app
