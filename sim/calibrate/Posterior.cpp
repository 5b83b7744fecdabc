#include "Posterior.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "model/Philox.hpp"
#include "scenario/ScenarioError.hpp"
#include "scenario/Streams.hpp"

namespace alignsim {

namespace {

std::string number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// The fields of a CSV line (no quoting: names and numbers have no commas) and where each starts.
std::vector<std::pair<std::string, int>> fields(const std::string& line) {
  std::vector<std::pair<std::string, int>> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.emplace_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start),
                     static_cast<int>(start) + 1);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool parse_number(const std::string& s, double& x) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto [end, ec] = std::from_chars(first, last, x);
  return ec == std::errc() && end == last && std::isfinite(x);
}

}  // namespace

std::string posterior_csv(const Posterior& p) {
  std::ostringstream out;
  for (const auto& c : p.comments) out << (c.empty() ? "#" : "# " + c) << '\n';
  out << "draw,weight,loss";
  for (const auto& n : p.names) out << ',' << n;
  out << '\n';
  for (std::size_t k = 0; k < p.values.size(); ++k) {
    out << k << ',' << number(p.weights[k]) << ',' << number(p.losses[k]);
    for (const double x : p.values[k]) out << ',' << number(x);
    out << '\n';
  }
  return out.str();
}

Posterior load_posterior_text(const std::string& text, const std::string& name) {
  std::vector<Diagnostic> errors;
  const auto error = [&](int line, int column, const std::string& message) {
    if (errors.size() < 50) errors.push_back({name, line, column, message});
  };
  Posterior p;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  bool header = false;
  std::size_t columns = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!header && !line.empty() && line[0] == '#') {
      p.comments.push_back(line.size() > 2 && line[1] == ' ' ? line.substr(2) : line.substr(1));
      continue;
    }
    if (line.empty()) continue;
    const auto f = fields(line);
    if (!header) {
      header = true;
      if (f.size() < 4 || f[0].first != "draw" || f[1].first != "weight" || f[2].first != "loss") {
        error(line_number, 1, "expected the header 'draw,weight,loss,NAME,...' (NAME: a parameter or b0:EVENT), found '" +
                                  line.substr(0, 60) + "'");
        break;
      }
      std::map<std::string, int> seen;
      for (std::size_t c = 3; c < f.size(); ++c) {
        const bool intercept = f[c].first.rfind("b0:", 0) == 0 && f[c].first.size() > 3;
        if (!intercept && !find_parameter(f[c].first)) {
          error(line_number, f[c].second, "unknown column '" + f[c].first +
                                              "': expected a parameter of the scenario format (k_a, ..., response_force) or b0:EVENT");
        }
        if (seen.count(f[c].first)) {
          error(line_number, f[c].second, "column '" + f[c].first + "' appears twice");
        }
        seen[f[c].first] = 1;
        p.names.push_back(f[c].first);
      }
      columns = f.size();
      continue;
    }
    if (f.size() != columns) {
      error(line_number, 1, "expected " + std::to_string(columns) + " fields (draw, weight, loss and " +
                                std::to_string(columns - 3) + " numbers), found " + std::to_string(f.size()));
      continue;
    }
    const std::size_t draw = p.values.size();
    if (f[0].first != std::to_string(draw)) {
      error(line_number, 1, "expected draw " + std::to_string(draw) + " (draws are numbered 0, 1, ... in order), found '" +
                                f[0].first + "'");
    }
    double weight = 0, loss = 0;
    if (!parse_number(f[1].first, weight) || weight < 0) {
      error(line_number, f[1].second, "'weight' must be a finite number >= 0, found '" + f[1].first + "'");
    }
    if (!parse_number(f[2].first, loss)) error(line_number, f[2].second, "'loss' must be a finite number, found '" + f[2].first + "'");
    std::vector<double> row(columns - 3);
    for (std::size_t c = 3; c < columns; ++c) {
      const auto* row_info = find_parameter(p.names[c - 3]);
      const double lo = row_info ? row_info->lo : -50.0, hi = row_info ? row_info->hi : 50.0;
      if (!parse_number(f[c].first, row[c - 3]) || row[c - 3] < lo || row[c - 3] > hi) {
        char range[64];
        std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
        error(line_number, f[c].second, "'" + p.names[c - 3] + "' must be a number in " + range + ", found '" + f[c].first + "'");
      }
    }
    p.weights.push_back(weight);
    p.losses.push_back(loss);
    p.values.push_back(std::move(row));
  }
  if (errors.empty()) {
    if (!header) {
      error(line_number, 0, "no header 'draw,weight,loss,...': not a posterior file");
    } else if (p.values.empty()) {
      error(line_number, 0, "no draws: a posterior needs at least one weighted parameter set");
    } else {
      double total = 0;
      for (const double w : p.weights) total += w;
      if (!(total > 0)) {
        error(line_number, 0, "the weights sum to 0");
      } else {
        for (auto& w : p.weights) w /= total;
      }
    }
  }
  if (!errors.empty()) throw ScenarioError(std::move(errors));
  return p;
}

Posterior load_posterior(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    throw ScenarioError({{path.string(), 0, 0,
                          "cannot open posterior file '" + path.string() + "': " +
                              (std::filesystem::exists(path) ? "permission denied or not a file" : "no such file")}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_posterior_text(text.str(), path.string());
}

int posterior_draw(std::uint64_t seed, std::uint64_t run, const std::vector<double>& cumulative) {
  const auto key = static_cast<std::uint32_t>(run);
  std::uint32_t w0 = 0, w1 = 0, w2 = 0, w3 = 0;
  detail::philox4x32_10<1>(&key, static_cast<std::uint32_t>(seed), 0, kTagPosteriorDraw, kNoiseStream,
                           static_cast<std::uint32_t>(seed >> 32), &w0, &w1, &w2, &w3);
  const double u = (static_cast<double>(w0 >> 5) * 67108864.0 + static_cast<double>(w1 >> 6)) * 0x1p-53;
  const double target = u * cumulative.back();
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
  return static_cast<int>(std::min<std::ptrdiff_t>(it - cumulative.begin(), static_cast<std::ptrdiff_t>(cumulative.size()) - 1));
}

PosteriorPlan::PosteriorPlan(const Posterior& posterior, const Model& model, std::uint64_t seed)
    : theta_(model.theta()), seed_(seed) {
  const auto& names = model.theta_names();
  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < posterior.names.size(); ++c) column[posterior.names[c]] = c;
  std::vector<std::pair<std::size_t, std::size_t>> mapping;  // theta index, posterior column
  for (std::size_t p = 0; p < names.size(); ++p) {
    const auto it = column.find(names[p]);
    if (it == column.end()) {
      kept_.push_back(names[p]);
    } else {
      mapping.emplace_back(p, it->second);
      column.erase(it);
    }
  }
  for (const auto& name : posterior.names) {
    if (column.count(name)) unused_.push_back(name);
  }
  for (const auto& values : posterior.values) {
    auto set = theta_;
    for (const auto& [p, c] : mapping) set[p] = values[c];
    sets_.push_back(std::move(set));
  }
  double total = 0;
  for (const double w : posterior.weights) cumulative_.push_back(total += w);
}

void PosteriorPlan::parameters(std::uint64_t run, double* out) const {
  const auto& set = sets_[static_cast<std::size_t>(draw(run))];
  std::copy(set.begin(), set.end(), out);
}

}  // namespace alignsim
