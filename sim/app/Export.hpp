#pragma once
/// `alignsim export FILE.h5 --table dyad-year|dyad-month|events|runs`: an output file as a tidy long
/// CSV table for R, Stata or pandas. Dyad rows carry the agents' Correlates of War codes with
/// ccode1 < ccode2 (peacesciencer's non-directed dyads), so they merge with dyad-year data sets on
/// ccode1, ccode2 and year. The columns are documented in docs/output-format.md.

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "io/EnsembleReader.hpp"

namespace alignsim::app {

enum class ExportTable { kDyadYear, kDyadMonth, kEvents, kRuns };

/// The names the command takes: dyad-year, dyad-month, events, runs.
const std::vector<std::string>& export_table_names();
std::optional<ExportTable> export_table_named(const std::string& name);

struct ExportOptions {
  std::string file;                ///< the ensemble output file to read
  std::string table = "dyad-year";
  std::string out;                 ///< the CSV file to write; empty: standard output
  bool overwrite = false;          ///< replace an existing `out` (never the input file)
};

/// Writes the table: comment lines naming the file, scenario and seed, the column names, the rows.
/// Throws OutputError when the file cannot be read, std::invalid_argument when it lacks what the
/// table needs (e.g. eras for the runs table).
void write_export(const EnsembleReader& reader, ExportTable table, std::ostream& out);

int export_file(const ExportOptions& options);

}  // namespace alignsim::app
