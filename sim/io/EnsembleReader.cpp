#include "EnsembleReader.hpp"

#include <H5Cpp.h>
#include <hdf5_hl.h>

#include "H5Create.hpp"
#include "H5Read.hpp"
#include "OutputWriter.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace alignsim {

namespace {

herr_t deepest_error(unsigned, const H5E_error2_t* e, void* out) {
  if (e->desc) *static_cast<std::string*>(out) = e->desc;  // walked downward: the last is the deepest
  return 0;
}

/// Whether the file starts with HDF5's signature (at 0, or after a user block of 512 * 2^k bytes).
bool has_hdf5_signature(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  static const char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  for (std::uint64_t at = 0; in && at < (std::uint64_t{1} << 40); at = at ? 2 * at : 512) {
    char head[8] = {};
    in.seekg(static_cast<std::streamoff>(at));
    if (!in.read(head, 8)) return false;
    if (std::equal(head, head + 8, signature)) return true;
  }
  return false;
}

}  // namespace

namespace detail {

std::string unreadable_reason(const std::filesystem::path& path) {
  const std::string temporary = path.filename().string().find(".tmp-") != std::string::npos
                                    ? " (the temporary file of an alignsim that was killed: it is not a result)"
                                    : "";
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0) {
    return "it is empty" + temporary;
  }
  std::string deepest;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, deepest_error, &deepest);
  unsigned long long eof = 0, base = 0, stored = 0;
  if (std::sscanf(deepest.c_str(), "truncated file: eof = %llu, sblock->base_addr = %llu, stored_eof = %llu", &eof,
                  &base, &stored) == 3) {
    return "it is truncated: it holds " + std::to_string(eof) + " bytes of the " + std::to_string(stored) +
           " its HDF5 header announces (an unfinished copy or transfer?)";
  }
  if (has_hdf5_signature(path)) {
    return "it is a damaged HDF5 file (" + (deepest.empty() ? "unreadable" : deepest) + ")" + temporary;
  }
  return "it is not an HDF5 file" + temporary;
}

std::string never_closed_reason(const std::filesystem::path& path) {
  const bool temporary = path.filename().string().find(".tmp-") != std::string::npos;
  return std::string("its HDF5 metadata is incomplete: a file that was never closed") +
         (temporary ? ", the temporary file of an alignsim that was killed: it is not a result" : " (killed while written?)");
}

}  // namespace detail

struct EnsembleReader::Impl {
  EnsembleHeader header;
  H5::H5File file;
  H5::DataSet event_month, era_alignment, alignment;
  bool has_eras = false;
};

EnsembleReader::EnsembleReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  auto& h = impl_->header;
  h.path = path.string();
  if (!std::filesystem::exists(path)) throw OutputError("cannot read '" + h.path + "': no such file");
  try {
    impl_->file = H5::H5File(h.path, H5F_ACC_RDONLY);
  } catch (const H5::Exception&) {
    throw OutputError("cannot read '" + h.path + "': " + detail::unreadable_reason(path));
  }
  try {
    const auto& f = impl_->file;
    bool has_format = false;
    try {
      has_format = f.attrExists("format");
    } catch (const H5::Exception&) {
      throw OutputError("cannot read '" + h.path + "': " + detail::never_closed_reason(path));
    }
    if (!has_format || detail::string_attribute(f, "format") != "alignsim-ensemble") {
      throw OutputError("cannot read '" + h.path + "': not an alignsim ensemble file (no format = \"alignsim-ensemble\")");
    }
    h.title = detail::string_attribute(f, "title");
    h.status = detail::string_attribute(f, "status");
    h.seed = detail::unsigned_attribute(f, "seed");
    h.runs = detail::unsigned_attribute(f, "runs");
    if (h.runs == 0) throw OutputError("cannot read '" + h.path + "': it holds no runs");
    h.stored_runs = detail::unsigned_attribute(f, "stored_runs");
    const auto bins = detail::unsigned_attribute(f, "histogram_bins");
    h.histogram_bins = static_cast<int>(std::min<std::uint64_t>(bins, 1u << 20));
    h.scenario_sha256 = detail::string_attribute(f, "scenario_sha256");
    h.scenario = detail::string_attribute(f, "scenario");
    h.software_version = detail::string_attribute(f, "software_version");
    h.git_commit = detail::string_attribute(f, "git_commit");
    h.agents = detail::string_list(f.openDataSet("agent"), 16);
    h.ccodes.assign(h.agents.size(), 0);
    if (f.nameExists("agent_ccode")) {
      const auto codes = detail::all_values<int>(f.openDataSet("agent_ccode"), 1, H5::PredType::NATIVE_INT, 16);
      for (std::size_t a = 0; a < codes.size() && a < h.ccodes.size(); ++a) h.ccodes[a] = std::max(0, codes[a]);
    }
    h.months = detail::string_list(f.openDataSet("month"));
    h.quantiles = detail::all_values<double>(f.openDataSet("quantile"), 1, H5::PredType::NATIVE_DOUBLE, 1024);
    h.events = detail::string_list(f.openDataSet("event"));
    h.event_titles = detail::string_list(f.openDataSet("event_title"));
    h.event_dates = detail::string_list(f.openDataSet("event_date"));
    h.event_kinds = detail::string_list(f.openDataSet("event_kind"));
    impl_->event_month = f.openDataSet("event_month");
    impl_->alignment = f.openDataSet("alignment");
    impl_->has_eras = f.nameExists("era");
    if (impl_->has_eras) {
      h.eras = detail::string_list(f.openDataSet("era"));
      h.era_from = detail::string_list(f.openDataSet("era_from"));
      h.era_to = detail::string_list(f.openDataSet("era_to"));
      impl_->era_alignment = f.openDataSet("era_alignment");
    }
    // The shapes the reads below rely on, checked once: a file could claim anything.
    const auto malformed = [&](const std::string& what) {
      throw OutputError("cannot read '" + h.path + "': it is not a well-formed alignsim file (" + what + ")");
    };
    const hsize_t R = h.runs, E = h.events.size(), N = h.agents.size(), eras = h.eras.size();
    if (R > (std::uint64_t{1} << 32) - 16) malformed("runs = " + std::to_string(R) + ", more than any run simulates");
    if (N < 2 || N > 16) malformed(std::to_string(N) + " agents, not 2 to 16");
    if (detail::dims_of(impl_->event_month.getSpace()) != std::vector<hsize_t>{R, E}) {
      malformed("event_month is not of runs x events, " + std::to_string(R) + " x " + std::to_string(E));
    }
    if (impl_->has_eras && detail::dims_of(impl_->era_alignment.getSpace()) != std::vector<hsize_t>{R, eras, N, N}) {
      malformed("era_alignment is not of runs x eras x agents x agents");
    }
    const hsize_t T = h.months.size();
    if (h.stored_runs > R) malformed("stored_runs = " + std::to_string(h.stored_runs) + ", more than its runs");
    if (detail::dims_of(impl_->alignment.getSpace()) != std::vector<hsize_t>{h.stored_runs, T, N, N}) {
      malformed("alignment is not of stored runs x months x agents x agents");
    }
    if (h.event_titles.size() != E || h.event_dates.size() != E || h.event_kinds.size() != E) {
      malformed("event_title, event_date and event_kind are not one per event");
    }
    if (h.era_from.size() != eras || h.era_to.size() != eras) malformed("era_from and era_to are not one per era");
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read '" + h.path + "': " + e.getDetailMsg());
  }
}

EnsembleReader::~EnsembleReader() = default;

const EnsembleHeader& EnsembleReader::header() const { return impl_->header; }

std::uint64_t EnsembleReader::runs_per_read(std::size_t bytes) const {
  const auto& h = impl_->header;
  const std::size_t per_run = h.events.size() * sizeof(std::int16_t) +
                              h.eras.size() * h.agents.size() * h.agents.size() * sizeof(float);
  return std::max<std::uint64_t>(1, std::min<std::uint64_t>(65536, bytes / std::max<std::size_t>(per_run, 1)));
}

void EnsembleReader::read(std::uint64_t first, std::uint64_t count, std::vector<std::int16_t>& event_month,
                          std::vector<float>& era_alignment) const {
  const auto& h = impl_->header;
  const auto E = static_cast<hsize_t>(h.events.size());
  const auto N = static_cast<hsize_t>(h.agents.size());
  const auto eras = static_cast<hsize_t>(h.eras.size());
  if (first > h.runs || count > h.runs - first) throw std::out_of_range("EnsembleReader::read past the last run");
  try {
    event_month.resize(count * E);
    if (E > 0 && count > 0) {
      const hsize_t start[2] = {first, 0}, size[2] = {count, E};
      auto space = impl_->event_month.getSpace();
      space.selectHyperslab(H5S_SELECT_SET, size, start);
      H5::DataSpace memory(2, size);
      impl_->event_month.read(event_month.data(), H5::PredType::NATIVE_INT16, memory, space);
    }
    era_alignment.resize(count * eras * N * N);
    if (impl_->has_eras && count > 0) {
      const hsize_t start[4] = {first, 0, 0, 0}, size[4] = {count, eras, N, N};
      auto space = impl_->era_alignment.getSpace();
      space.selectHyperslab(H5S_SELECT_SET, size, start);
      H5::DataSpace memory(4, size);
      impl_->era_alignment.read(era_alignment.data(), H5::PredType::NATIVE_FLOAT, memory, space);
    }
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read runs " + std::to_string(first) + " to " + std::to_string(first + count - 1) +
                      " of '" + h.path + "': " + e.getDetailMsg());
  }
}

Summary EnsembleReader::summary() const {
  const auto& h = impl_->header;
  Summary out;
  out.months = static_cast<int>(h.months.size());
  out.agents = static_cast<int>(h.agents.size());
  out.runs = h.runs;
  out.bins = h.histogram_bins;
  out.quantiles = h.quantiles;
  const std::size_t cells = h.months.size() * h.agents.size() * h.agents.size();
  try {
    const auto& f = impl_->file;
    out.mean = detail::all_values<float>(f.openDataSet("alignment_mean"), 3, H5::PredType::NATIVE_FLOAT, cells);
    out.std = detail::all_values<float>(f.openDataSet("alignment_std"), 3, H5::PredType::NATIVE_FLOAT, cells);
    out.quantile = detail::all_values<float>(f.openDataSet("alignment_quantile"), 4, H5::PredType::NATIVE_FLOAT,
                                             cells * h.quantiles.size());
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read the summaries of '" + h.path + "': " + e.getDetailMsg());
  }
  if (out.mean.size() != cells || out.std.size() != cells || out.quantile.size() != cells * h.quantiles.size()) {
    throw OutputError("cannot read the summaries of '" + h.path + "': their shapes do not match its dimensions");
  }
  return out;
}

std::vector<float> EnsembleReader::event_probability() const {
  try {
    return detail::all_values<float>(impl_->file.openDataSet("event_probability"), 1, H5::PredType::NATIVE_FLOAT,
                                     impl_->header.events.size());
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read event_probability of '" + impl_->header.path + "': " + e.getDetailMsg());
  }
}

void EnsembleReader::read_stored(std::uint64_t first, std::uint64_t count, std::vector<float>& alignment) const {
  const auto& h = impl_->header;
  const auto T = static_cast<hsize_t>(h.months.size());
  const auto N = static_cast<hsize_t>(h.agents.size());
  if (first > h.stored_runs || count > h.stored_runs - first) {
    throw std::out_of_range("EnsembleReader::read_stored past the last stored run");
  }
  alignment.resize(count * T * N * N);
  if (count == 0) return;
  try {
    const hsize_t start[4] = {first, 0, 0, 0}, size[4] = {count, T, N, N};
    auto space = impl_->alignment.getSpace();
    space.selectHyperslab(H5S_SELECT_SET, size, start);
    H5::DataSpace memory(4, size);
    impl_->alignment.read(alignment.data(), H5::PredType::NATIVE_FLOAT, memory, space);
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read stored runs " + std::to_string(first) + " to " + std::to_string(first + count - 1) +
                      " of '" + h.path + "': " + e.getDetailMsg());
  }
}

namespace {

void write_strings(H5::Group& g, const std::string& name, const std::vector<std::string>& values) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  const hsize_t n = values.size();
  auto ds = g.createDataSet(name, type, H5::DataSpace(1, &n), detail::untimed_dataset_plist());
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  if (n > 0) ds.write(p.data(), type);
  H5DSset_scale(ds.getId(), name.c_str());
}

/// A dataset of doubles with its dimension scales (and a long_name when given).
H5::DataSet write_doubles(H5::Group& g, const std::string& name, const std::vector<double>& values,
                          const std::vector<hsize_t>& dims, const std::vector<H5::DataSet>& scales,
                          const std::string& long_name = "") {
  auto ds = g.createDataSet(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(static_cast<int>(dims.size()), dims.data()),
                            detail::untimed_dataset_plist());
  if (!values.empty()) ds.write(values.data(), H5::PredType::NATIVE_DOUBLE);
  for (std::size_t k = 0; k < scales.size(); ++k) H5DSattach_scale(ds.getId(), scales[k].getId(), static_cast<unsigned>(k));
  if (!long_name.empty()) {
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    auto a = ds.createAttribute("long_name", type, H5::DataSpace(H5S_SCALAR));
    const char* p = long_name.c_str();
    a.write(type, &p);
  }
  return ds;
}

/// One field of every row, as a dataset.
template <class Row>
void write_field(H5::Group& g, const std::string& name, const std::vector<Row>& rows, double Row::*field,
                 const std::vector<hsize_t>& dims, const std::vector<H5::DataSet>& scales, const std::string& long_name = "") {
  std::vector<double> values;
  for (const auto& r : rows) values.push_back(r.*field);
  write_doubles(g, name, values, dims, scales, long_name);
}

void write_string_attribute(H5::H5Object& at, const std::string& name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  auto a = at.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(type, &p);
}

/// The path of the effect (ComparisonTable::path_events): which runs' flips carried each era effect.
void write_path(H5::Group& g, const ComparisonTable& t, const std::vector<H5::DataSet>& era_dims) {
  std::vector<std::string> names;
  for (const std::size_t k : t.path_events) names.push_back(t.events[k]);
  write_strings(g, "path_event", names);
  const auto scale = g.openDataSet("path_event");
  const std::vector<hsize_t> pd = {names.size()};
  const std::vector<hsize_t> ped = {names.size(), t.eras.size(), t.agents.size(), t.agents.size()};
  std::vector<H5::DataSet> scales = {scale};
  write_doubles(g, "path_flip_share", t.path_flip_share, pd, scales,
                "the share of runs in which the decision went differently in the two worlds (happened in one only)");
  scales.insert(scales.end(), era_dims.begin(), era_dims.end());
  std::vector<double> same(t.path_through_flip.size());
  const std::size_t rows = t.era_dyads.size();
  for (std::size_t k = 0; k < same.size(); ++k) same[k] = t.era_dyads[k % rows].difference - t.path_through_flip[k];
  write_doubles(g, "era_alignment_through_flip", t.path_through_flip, ped, scales,
                "the part of the mean difference from the runs in which the decision flipped (their differences "
                "summed, over all runs)");
  write_doubles(g, "era_alignment_through_same", same, ped, scales,
                "the part of the mean difference from the runs in which the decision went the same way in both worlds");
}

/// The spread across posterior draws (ComparisonTable::draws > 0), and each draw's own mean difference.
void write_draws(H5::Group& g, const ComparisonTable& t, const std::vector<H5::DataSet>& era_dims,
                 const std::vector<H5::DataSet>& event_dims) {
  const std::vector<hsize_t> ed = {t.eras.size(), t.agents.size(), t.agents.size()};
  const std::vector<hsize_t> vd = {t.events.size()};
  const std::pair<const char*, const char*> fields[] = {
      {"draws_low", "across plausible parameter values: the 5% quantile of the mean difference of each posterior draw"},
      {"draws_high", "across plausible parameter values: the 95% quantile of the mean difference of each posterior draw"},
      {"p_positive", "the share of posterior draws whose mean difference is above 0"},
      {"p_negative", "the share of posterior draws whose mean difference is below 0"},
      {"draws_noise_share", "the share of the variance of the per-draw means that is Monte Carlo noise of each draw's runs"}};
  double DrawSpread::* const members[] = {&DrawSpread::low, &DrawSpread::high, &DrawSpread::p_positive,
                                          &DrawSpread::p_negative, &DrawSpread::noise_share};
  for (std::size_t f = 0; f < std::size(fields); ++f) {
    write_field(g, std::string("era_alignment_") + fields[f].first, t.era_dyad_draws, members[f], ed, era_dims, fields[f].second);
    write_field(g, std::string("event_probability_") + fields[f].first, t.event_probability_draws, members[f], vd,
                event_dims, fields[f].second);
  }
  const auto robust = [&](const std::vector<DrawSpread>& rows, const std::string& name, const std::vector<hsize_t>& dims,
                          const std::vector<H5::DataSet>& scales) {
    std::vector<std::int8_t> flags;
    for (const auto& r : rows) flags.push_back(r.robust ? 1 : 0);
    auto ds = g.createDataSet(name, H5::PredType::NATIVE_INT8, H5::DataSpace(static_cast<int>(dims.size()), dims.data()),
                              detail::untimed_dataset_plist());
    if (!flags.empty()) ds.write(flags.data(), H5::PredType::NATIVE_INT8);
    for (std::size_t k = 0; k < scales.size(); ++k) H5DSattach_scale(ds.getId(), scales[k].getId(), static_cast<unsigned>(k));
  };
  robust(t.era_dyad_draws, "era_alignment_robust", ed, era_dims);
  robust(t.event_probability_draws, "event_probability_robust", vd, event_dims);
  // Each draw's own mean difference: the distributions the spread summarises.
  const hsize_t nd = t.draw_ids.size();
  auto draw = g.createDataSet("draw", H5::PredType::NATIVE_INT32, H5::DataSpace(1, &nd), detail::untimed_dataset_plist());
  if (nd > 0) draw.write(t.draw_ids.data(), H5::PredType::NATIVE_INT32);
  H5DSset_scale(draw.getId(), "draw");
  auto runs = g.createDataSet("draw_runs", H5::PredType::NATIVE_UINT64, H5::DataSpace(1, &nd), detail::untimed_dataset_plist());
  if (nd > 0) runs.write(t.draw_runs.data(), H5::PredType::NATIVE_UINT64);
  H5DSattach_scale(runs.getId(), draw.getId(), 0);
  std::vector<H5::DataSet> draw_era = {draw}, draw_event = {draw};
  draw_era.insert(draw_era.end(), era_dims.begin(), era_dims.end());
  draw_event.insert(draw_event.end(), event_dims.begin(), event_dims.end());
  write_doubles(g, "era_alignment_draw_mean", t.era_dyad_draw_means, {nd, ed[0], ed[1], ed[2]}, draw_era,
                "each posterior draw's mean difference over its runs");
  write_doubles(g, "event_probability_draw_mean", t.event_draw_means, {nd, vd[0]}, draw_event,
                "each posterior draw's mean difference over its runs");
  write_string_attribute(g, "posterior_sha256", t.posterior_sha256);
  write_string_attribute(
      g, "intervals",
      "ci_low, ci_high: the Monte Carlo interval (95%) of the mean difference over all runs, how precisely the runs pin "
      "down the average effect (more runs narrow it). draws_low, draws_high: across plausible parameter values, the 5% "
      "and 95% quantiles of the mean difference of each posterior draw, what the model does not know (more runs do not "
      "narrow it). robust = 1: the sign holds in at least 90% of the draws.");
  auto count = g.createAttribute("draws", H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR));
  count.write(H5::PredType::NATIVE_UINT64, &t.draws);
  auto per = g.createAttribute("runs_per_draw_median", H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR));
  per.write(H5::PredType::NATIVE_UINT64, &t.runs_per_draw_median);
}

}  // namespace

namespace {

/// Group /comparison and everything in it; all of it is closed on return.
void write_comparison_group(H5::H5File& file, const ComparisonTable& t) {
  auto g = detail::create_untimed_group(file.openGroup("/"), "comparison");
  write_strings(g, "era", t.eras);
  write_strings(g, "agent", t.agents);
  write_strings(g, "other", t.agents);
  write_strings(g, "event", t.events);
  const std::vector<H5::DataSet> era_dims = {g.openDataSet("era"), g.openDataSet("agent"), g.openDataSet("other")};
  const std::vector<H5::DataSet> event_dims = {g.openDataSet("event")};
  const std::vector<hsize_t> ed = {t.eras.size(), t.agents.size(), t.agents.size()};
  const std::vector<hsize_t> vd = {t.events.size()};
  const std::pair<const char*, double Difference::*> fields[] = {
      {"base", &Difference::base},   {"cf", &Difference::cf},     {"difference", &Difference::difference},
      {"ci_low", &Difference::low},  {"ci_high", &Difference::high}, {"unpaired_ci_low", &Difference::unpaired_low},
      {"unpaired_ci_high", &Difference::unpaired_high}};
  for (const auto& [name, field] : fields) {
    write_field(g, std::string("era_alignment_") + name, t.era_dyads, field, ed, era_dims);
    write_field(g, std::string("event_probability_") + name, t.event_probability, field, vd, event_dims);
  }
  {
    // event_role: "responded" (the same definition in both: a change is a response), "changed_by_counterfactual",
    // "in_one_scenario_only".
    std::vector<std::string> roles;
    for (const auto r : t.event_role) {
      roles.push_back(r == ComparisonTable::Role::Same ? "responded"
                                                       : (r == ComparisonTable::Role::Changed ? "changed_by_counterfactual"
                                                                                              : "in_one_scenario_only"));
    }
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    auto ds = g.createDataSet("event_role", type, H5::DataSpace(1, vd.data()), detail::untimed_dataset_plist());
    std::vector<const char*> p;
    for (const auto& v : roles) p.push_back(v.c_str());
    if (!p.empty()) ds.write(p.data(), type);
    H5DSattach_scale(ds.getId(), event_dims[0].getId(), 0);
  }
  if (!t.path_events.empty()) write_path(g, t, era_dims);
  if (t.draws > 0) write_draws(g, t, era_dims, event_dims);
  const auto str_attr = [&](const std::string& name, const std::string& value) {
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    auto a = g.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
    const char* p = value.c_str();
    a.write(type, &p);
  };
  str_attr("base", t.base_path);
  str_attr("counterfactual", t.cf_path);
  str_attr("method", "paired by run index (same seed: common random numbers); normal intervals of the mean paired difference");
  auto runs = g.createAttribute("runs", H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR));
  runs.write(H5::PredType::NATIVE_UINT64, &t.runs);
  auto seed = g.createAttribute("seed", H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR));
  seed.write(H5::PredType::NATIVE_UINT64, &t.seed);
  auto level = g.createAttribute("level", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(H5S_SCALAR));
  level.write(H5::PredType::NATIVE_DOUBLE, &t.level);
}

}  // namespace

void write_comparison_h5(const std::filesystem::path& path, const ComparisonTable& t, const std::string& shown) {
  H5::Exception::dontPrint();
  errno = 0;
  try {
    H5::H5File file(path.string(), H5F_ACC_TRUNC, detail::untimed_file_plist());
    write_comparison_group(file, t);
    file.close();  // here, not in a destructor: a failure to flush (a full disk) is an error too
  } catch (const H5::Exception& e) {
    throw OutputError("cannot write '" + (shown.empty() ? path.string() : shown) + "': " +
                      (errno == ENOSPC ? "no space left on device (" + e.getDetailMsg() + ")" : e.getDetailMsg()));
  }
}

}  // namespace alignsim
