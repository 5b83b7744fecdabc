#include "Export.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>

#include "Commands.hpp"
#include "io/OutputPath.hpp"
#include "io/OutputWriter.hpp"
#include "io/RunDraws.hpp"

namespace alignsim::app {

namespace fs = std::filesystem;

namespace {

/// A dyad as the tables write it: agent a first, with ccode[a] < ccode[b] when both have codes.
struct Dyad {
  int a = 0, b = 0;
};

/// Every dyad once, ordered as peacesciencer orders non-directed dyad-years: by ccode1, then
/// ccode2 (ccode1 < ccode2). Dyads with an agent lacking a code follow, in agent order.
std::vector<Dyad> dyads_of(const EnsembleHeader& h) {
  const int n = static_cast<int>(h.agents.size());
  const auto& c = h.ccodes;
  std::vector<Dyad> out;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      const bool swap = c[i] > 0 && c[j] > 0 && c[j] < c[i];
      out.push_back(swap ? Dyad{j, i} : Dyad{i, j});
    }
  }
  const auto key = [&](const Dyad& d) {
    const bool coded = c[d.a] > 0 && c[d.b] > 0;
    return std::make_tuple(!coded, coded ? c[d.a] : 0, coded ? c[d.b] : 0, std::min(d.a, d.b), std::max(d.a, d.b));
  };
  std::stable_sort(out.begin(), out.end(), [&](const Dyad& x, const Dyad& y) { return key(x) < key(y); });
  return out;
}

/// CSV fields (RFC 4180 quoting); NaN and absent values are empty fields, which R, pandas and
/// Stata all read as missing.
class Csv {
 public:
  explicit Csv(std::ostream& o) : o_(o) {}
  Csv& text(const std::string& s) {
    sep();
    if (s.find_first_of(",\"\n\r") == std::string::npos) {
      o_ << s;
    } else {
      o_ << '"';
      for (const char ch : s) o_ << (ch == '"' ? "\"\"" : std::string(1, ch));
      o_ << '"';
    }
    return *this;
  }
  /// The shortest decimal that reads back as the same float32 (the file's precision).
  Csv& number(float x) {
    sep();
    if (std::isnan(x)) return *this;
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, x);
    o_.write(buffer, r.ptr - buffer);
    return *this;
  }
  Csv& integer(long long x) {
    sep();
    o_ << x;
    return *this;
  }
  Csv& code(int ccode) { return ccode > 0 ? integer(ccode) : text(""); }
  Csv& empty() { return text(""); }
  void end() {
    o_ << '\n';
    first_ = true;
  }
  void header(const std::vector<std::string>& names) {
    for (const auto& name : names) text(name);
    end();
  }

 private:
  void sep() {
    if (!first_) o_ << ',';
    first_ = false;
  }
  std::ostream& o_;
  bool first_ = true;
};

/// Column names of quantile levels: 0.05 -> q05, 0.5 -> q50, 0.975 -> q97.5.
std::vector<std::string> quantile_columns(const std::vector<double>& levels, const std::string& prefix) {
  std::vector<std::string> out;
  for (const double q : levels) {
    const double percent = std::round(q * 1e6) / 1e4;
    char buffer[32];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, percent);
    std::string digits(buffer, r.ptr);
    if (percent < 10) digits = "0" + digits;
    out.push_back(prefix + "q" + digits);
  }
  return out;
}

void dyad_fields(Csv& csv, const EnsembleHeader& h, const Dyad& d) {
  const auto& x = h.agents[d.a];
  const auto& y = h.agents[d.b];
  csv.code(h.ccodes[d.a]).code(h.ccodes[d.b]).text(x).text(y).text(std::min(x, y) + "-" + std::max(x, y));
}

const std::vector<std::string> kDyadColumns = {"ccode1", "ccode2", "agent1", "agent2", "dyad"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The time steps of each calendar year: [first, last] indices along `time`.
struct Year {
  int year = 0, first = 0, last = 0;
  int months() const { return last - first + 1; }
};

std::vector<Year> years_of(const std::vector<std::string>& months) {
  std::vector<Year> out;
  for (int t = 0; t < static_cast<int>(months.size()); ++t) {
    const int y = std::stoi(months[t].substr(0, 4));
    if (out.empty() || out.back().year != y) out.push_back({y, t, t});
    out.back().last = t;
  }
  return out;
}

void comment_lines(const EnsembleHeader& h, const std::string& table, const std::vector<std::string>& notes,
                   std::ostream& o) {
  o << "# alignsim export --table " << table << " (columns: docs/output-format.md)\n"
    << "# file: " << h.path << "\n"
    << "# scenario: " << h.title << " (scenario_sha256 " << h.scenario_sha256 << ")\n"
    << "# seed: " << h.seed << "; runs: " << h.runs << "; stored runs: " << h.stored_runs << "; status: " << h.status
    << "\n# written by alignsim " << h.software_version << " (" << h.git_commit << ")\n";
  for (const auto& n : notes) o << "# " << n << '\n';
}

void dyad_month(const EnsembleReader& reader, std::ostream& o) {
  const auto& h = reader.header();
  const Summary s = reader.summary();
  const std::size_t n = h.agents.size(), nn = n * n, T = h.months.size();
  comment_lines(h, "dyad-month", {"mean, sd (ddof = 1) and quantiles q*: of M = (W + W^T) / 2 over all " +
                                      std::to_string(h.runs) + " runs at the month's end, as the file stores them"},
                o);
  Csv csv(o);
  csv.header(concat(concat(kDyadColumns, {"year", "month", "mean", "sd"}),
                    concat(quantile_columns(h.quantiles, ""), {"runs"})));
  for (const auto& d : dyads_of(h)) {
    const std::size_t cell = static_cast<std::size_t>(d.a) * n + d.b;
    for (std::size_t t = 0; t < T; ++t) {
      dyad_fields(csv, h, d);
      csv.integer(std::stoi(h.months[t].substr(0, 4))).integer(std::stoi(h.months[t].substr(5, 2)));
      csv.number(s.mean[t * nn + cell]).number(s.std[t * nn + cell]);
      for (std::size_t q = 0; q < h.quantiles.size(); ++q) csv.number(s.quantile[(q * T + t) * nn + cell]);
      csv.integer(static_cast<long long>(h.runs));
      csv.end();
    }
  }
}

/// Summaries over the stored runs of each run's mean M over each year's months ([year][agent][other]),
/// computed as the engine computes the monthly ones (exact sums, histogram quantiles).
Summary stored_yearly(const EnsembleReader& reader, const std::vector<Year>& years) {
  const auto& h = reader.header();
  const int n = static_cast<int>(h.agents.size());
  const auto nn = static_cast<std::size_t>(n) * n;
  const std::size_t T = h.months.size();
  constexpr std::uint64_t block = 64;
  DyadBuffer buffer(n, static_cast<int>(years.size()), static_cast<int>(block));
  SummaryAccumulator accumulator(n, static_cast<int>(years.size()), h.histogram_bins > 0 ? h.histogram_bins : 1000);
  std::vector<float> w;
  for (std::uint64_t first = 0; first < h.stored_runs; first += block) {
    const std::uint64_t count = std::min(block, h.stored_runs - first);
    reader.read_stored(first, count, w);
    for (std::size_t y = 0; y < years.size(); ++y) {
      for (int p = 0; p < buffer.dyads(); ++p) {
        const auto [ij, ji] = buffer.pairs()[p];
        float* row = buffer.row(static_cast<int>(y), p);
        for (std::uint64_t k = 0; k < count; ++k) {
          double sum = 0;  // as the engine's era means: M in float, summed in double
          for (int t = years[y].first; t <= years[y].last; ++t) {
            const float* m = &w[(k * T + static_cast<std::size_t>(t)) * nn];
            sum += 0.5f * (m[ij] + m[ji]);
          }
          row[k] = static_cast<float>(sum / years[y].months());
        }
      }
    }
    accumulator.add(buffer, static_cast<int>(count));
  }
  return accumulator.finish(h.quantiles);
}

void dyad_year(const EnsembleReader& reader, std::ostream& o) {
  const auto& h = reader.header();
  const Summary s = reader.summary();
  const auto years = years_of(h.months);
  const std::size_t n = h.agents.size(), nn = n * n;
  const Summary stored = stored_yearly(reader, years);
  const bool spread = h.stored_runs >= 2;
  comment_lines(h, "dyad-year",
                {"year: a calendar year; months: its months in the horizon; M = (W + W^T) / 2 at each month's end",
                 "mean: over all " + std::to_string(h.runs) +
                     " runs of each run's mean M over the year's months (exact: the mean of the file's monthly means)",
                 "sd (ddof = 1) and quantiles q*: of the same per-run yearly mean over the " +
                     std::to_string(h.stored_runs) + " stored runs (runs 0.." +
                     std::to_string(h.stored_runs ? h.stored_runs - 1 : 0) + "), quantiles from " +
                     std::to_string(stored.bins) + "-bin histograms over [-1, 1]" +
                     (spread ? "" : "; empty: fewer than 2 stored runs (simulate with --store-runs)")},
                o);
  Csv csv(o);
  csv.header(concat(concat(kDyadColumns, {"year", "months", "mean", "sd"}),
                    concat(quantile_columns(h.quantiles, ""), {"runs", "stored_runs"})));
  for (const auto& d : dyads_of(h)) {
    const std::size_t cell = static_cast<std::size_t>(d.a) * n + d.b;
    for (std::size_t y = 0; y < years.size(); ++y) {
      double sum = 0;
      for (int t = years[y].first; t <= years[y].last; ++t) sum += s.mean[static_cast<std::size_t>(t) * nn + cell];
      dyad_fields(csv, h, d);
      csv.integer(years[y].year).integer(years[y].months());
      csv.number(static_cast<float>(sum / years[y].months()));
      if (spread) {
        csv.number(stored.std[y * nn + cell]);
        for (std::size_t q = 0; q < h.quantiles.size(); ++q) {
          csv.number(stored.quantile[(q * years.size() + y) * nn + cell]);
        }
      } else {
        for (std::size_t q = 0; q <= h.quantiles.size(); ++q) csv.empty();
      }
      csv.integer(static_cast<long long>(h.runs)).integer(static_cast<long long>(h.stored_runs));
      csv.end();
    }
  }
}

/// Runs read at once: a block of the baseline's event months and era means takes about 16 MB.
constexpr std::uint64_t kRunBlock = 16384;

/// Calls f(first, count, event_month, era_alignment) for each block of runs, in run order.
template <class F>
void each_block(const EnsembleReader& reader, std::uint64_t block, F f) {
  std::vector<std::int16_t> months;
  std::vector<float> eras;
  for (std::uint64_t first = 0; first < reader.header().runs; first += block) {
    const std::uint64_t count = std::min(block, reader.header().runs - first);
    reader.read(first, count, months, eras);
    f(first, count, months, eras);
  }
}

void events(const EnsembleReader& reader, std::ostream& o) {
  const auto& h = reader.header();
  const std::size_t E = h.events.size(), T = h.months.size();
  const auto probability = reader.event_probability();
  std::vector<std::uint64_t> count(E * T, 0), happened(E, 0);
  each_block(reader, kRunBlock, [&](std::uint64_t first, std::uint64_t runs, const auto& months, const auto&) {
    for (std::uint64_t r = 0; r < runs; ++r) {
      for (std::size_t e = 0; e < E; ++e) {
        const int t = months[r * E + e];
        if (t < 0) continue;
        if (static_cast<std::size_t>(t) >= T) {
          throw OutputError("'" + h.path + "': event_month of run " + std::to_string(first + r) + ", event '" +
                            h.events[e] + "' is " + std::to_string(t) + ", past the last month");
        }
        ++count[e * T + static_cast<std::size_t>(t)];
        ++happened[e];
      }
    }
  });
  comment_lines(h, "events",
                {"date: the scheduled (historical) month; probability: share of all " + std::to_string(h.runs) +
                     " runs in which the event happened; happened: how many",
                 "month_q*: quantiles of the month it happened over the runs in which it did (the first month "
                 "by which that share of them had it); empty when it never happened"},
                o);
  Csv csv(o);
  csv.header(concat({"event", "date", "kind", "title", "probability", "happened", "runs"},
                    quantile_columns(h.quantiles, "month_")));
  for (std::size_t e = 0; e < E; ++e) {
    csv.text(h.events[e]).text(h.event_dates[e]).text(h.event_kinds[e]).text(h.event_titles[e]);
    csv.number(probability.at(e)).integer(static_cast<long long>(happened[e])).integer(static_cast<long long>(h.runs));
    for (const double q : h.quantiles) {
      if (happened[e] == 0) {
        csv.empty();
        continue;
      }
      const double target = std::max(q * static_cast<double>(happened[e]), 1.0);
      std::uint64_t cumulative = 0;
      std::size_t t = 0;
      while (t + 1 < T && static_cast<double>(cumulative += count[e * T + t]) < target) ++t;
      csv.text(h.months[t]);
    }
    csv.end();
  }
}

void runs(const EnsembleReader& reader, std::ostream& o) {
  const auto& h = reader.header();
  if (h.eras.empty()) {
    throw std::invalid_argument("'" + h.path + "' has no eras (its scenario defines no [[eras]]), so no era means per run");
  }
  const std::size_t n = h.agents.size(), nn = n * n, eras = h.eras.size();
  const RunDrawReader draws(h.path);
  std::vector<std::string> notes{
      "one row per run, era and dyad; mean: the run's mean M = (W + W^T) / 2 over the era's months "
      "(from, to: inclusive), as the file's era_alignment stores it"};
  if (draws.present()) {
    notes.push_back("a posterior ensemble: run_draw is the row of the posterior file (from 0) whose parameters "
                    "the run used; posterior " + draws.posterior() + " (sha256 " + draws.sha256() + ", " +
                    std::to_string(draws.draws()) + " parameter sets)");
  }
  comment_lines(h, "runs", notes, o);
  Csv csv(o);
  const std::vector<std::string> run_columns =
      draws.present() ? std::vector<std::string>{"run", "run_draw"} : std::vector<std::string>{"run"};
  csv.header(concat(concat(run_columns, {"era", "from", "to"}), concat(kDyadColumns, {"mean"})));
  const auto dyads = dyads_of(h);
  std::vector<std::int32_t> draw;
  each_block(reader, kRunBlock, [&](std::uint64_t first, std::uint64_t count, const auto&, const auto& era) {
    if (draws.present()) draws.read(first, count, draw);
    for (std::uint64_t r = 0; r < count; ++r) {
      for (std::size_t e = 0; e < eras; ++e) {
        for (const auto& d : dyads) {
          csv.integer(static_cast<long long>(first + r));
          if (draws.present()) csv.integer(draw[r]);
          csv.text(h.eras[e]).text(h.era_from[e]).text(h.era_to[e]);
          dyad_fields(csv, h, d);
          csv.number(era[(r * eras + e) * nn + static_cast<std::size_t>(d.a) * n + d.b]);
          csv.end();
        }
      }
    }
  });
}

/// A failure writing the output file (exit 1), as against reading the input (exit 2).
class WriteError : public OutputError {
 public:
  using OutputError::OutputError;
};

/// The output rule of every command (io/OutputPath.hpp): never one of the inputs, never an existing
/// file without `overwrite`, never a read-only file or a device; written under a temporary name in
/// the same folder and renamed when complete, so that a failure or a signal leaves nothing under the
/// final name. Throws OutputRefused (exit 2) or WriteError (exit 1).
void write_output_file(const fs::path& out, const std::vector<fs::path>& inputs, bool overwrite,
                       const std::function<void(std::ostream&)>& write) {
  const auto writing = [](const auto& step) {
    try {
      step();
    } catch (const OutputRefused&) {
      throw;
    } catch (const OutputError& e) {
      throw WriteError(e.what());
    }
  };
  std::optional<OutputPath> output;
  writing([&] { output.emplace(out, inputs, overwrite, "--out"); });
  {
    std::ofstream file(output->temp_path(), std::ios::binary | std::ios::trunc);
    if (file) write(file);
    file.flush();
    file.close();
    if (!file) throw WriteError("cannot write '" + out.string() + "': " + (errno ? std::strerror(errno) : "write failed"));
  }
  writing([&] { output->commit(); });
}

}  // namespace

const std::vector<std::string>& export_table_names() {
  static const std::vector<std::string> names = {"dyad-year", "dyad-month", "events", "runs"};
  return names;
}

std::optional<ExportTable> export_table_named(const std::string& name) {
  const auto& names = export_table_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<ExportTable>(it - names.begin());
}

void write_export(const EnsembleReader& reader, ExportTable table, std::ostream& out) {
  switch (table) {
    case ExportTable::kDyadYear: return dyad_year(reader, out);
    case ExportTable::kDyadMonth: return dyad_month(reader, out);
    case ExportTable::kEvents: return events(reader, out);
    case ExportTable::kRuns: return runs(reader, out);
  }
}

int export_file(const ExportOptions& o) {
  const auto table = export_table_named(o.table);
  if (!table) {
    std::cerr << "alignsim: unknown table '" << o.table << "'; expected dyad-year, dyad-month, events or runs\n";
    return kBadInput;
  }
  try {
    const EnsembleReader reader(o.file);
    if (reader.header().status != "complete") {
      std::cerr << "alignsim: warning: '" << o.file << "' has status \"" << reader.header().status
                << "\": it holds only the runs finished\n";
    }
    if (o.out.empty()) {
      write_export(reader, *table, std::cout);
      std::cout.flush();
      return std::cout ? kOk : kFailure;
    }
    write_output_file(o.out, {o.file}, o.overwrite, [&](std::ostream& s) { write_export(reader, *table, s); });
    return kOk;
  } catch (const std::invalid_argument& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  } catch (const OutputRefused& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  } catch (const WriteError& e) {
    std::cerr << "alignsim: " << e.what() << '\n';
    return kFailure;
  } catch (const OutputError& e) {  // the input file: missing, foreign or damaged
    std::cerr << "alignsim: " << e.what() << '\n';
    return kBadInput;
  }
}

}  // namespace alignsim::app
