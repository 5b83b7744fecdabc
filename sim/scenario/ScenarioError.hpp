#pragma once
/// Errors a user can cause with a scenario: each names the file, line, column and what was expected.

#include <stdexcept>
#include <string>
#include <vector>

namespace alignsim {

struct Diagnostic {
  std::string file;
  int line = 0;    ///< 1-based; 0 when unknown
  int column = 0;  ///< 1-based; 0 when unknown
  std::string message;

  /// "file:line:column: error: message", the form compilers use so editors can jump to it.
  std::string str() const;
};

/// Thrown by the loader with every problem it found (it does not stop at the first).
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace alignsim
