#include "EnsembleReader.hpp"

#include <H5Cpp.h>
#include <hdf5_hl.h>

#include <algorithm>

#include "OutputWriter.hpp"

namespace alignsim {

namespace {

std::vector<std::string> read_strings(const H5::DataSet& ds) {
  const auto space = ds.getSpace();
  hsize_t n = 0;
  space.getSimpleExtentDims(&n);
  std::vector<char*> raw(n, nullptr);
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  if (n > 0) ds.read(raw.data(), type);
  std::vector<std::string> out;
  for (auto* p : raw) out.emplace_back(p ? p : "");
  if (n > 0) H5Dvlen_reclaim(type.getId(), space.getId(), H5P_DEFAULT, raw.data());
  return out;
}

std::string string_attr(const H5::H5File& f, const std::string& name) {
  const auto a = f.openAttribute(name);
  std::string value;
  a.read(a.getStrType(), value);
  return value;
}

std::uint64_t u64_attr(const H5::H5File& f, const std::string& name) {
  std::uint64_t v = 0;
  f.openAttribute(name).read(H5::PredType::NATIVE_UINT64, &v);
  return v;
}

template <class T>
std::vector<T> read_all(const H5::DataSet& ds, const H5::PredType& type) {
  const auto space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<std::size_t>(space.getSimpleExtentNdims()));
  if (!dims.empty()) space.getSimpleExtentDims(dims.data());
  std::size_t n = 1;
  for (const auto d : dims) n *= d;
  std::vector<T> out(n);
  if (n > 0) ds.read(out.data(), type);
  return out;
}

}  // namespace

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
    throw OutputError("cannot read '" + h.path + "': not an HDF5 file");
  }
  try {
    const auto& f = impl_->file;
    if (!f.attrExists("format") || string_attr(f, "format") != "alignsim-ensemble") {
      throw OutputError("cannot read '" + h.path + "': not an alignsim ensemble file (no format = \"alignsim-ensemble\")");
    }
    h.title = string_attr(f, "title");
    h.status = string_attr(f, "status");
    h.seed = u64_attr(f, "seed");
    h.runs = u64_attr(f, "runs");
    h.stored_runs = u64_attr(f, "stored_runs");
    f.openAttribute("histogram_bins").read(H5::PredType::NATIVE_INT, &h.histogram_bins);
    h.scenario_sha256 = string_attr(f, "scenario_sha256");
    h.scenario = string_attr(f, "scenario");
    h.software_version = string_attr(f, "software_version");
    h.git_commit = string_attr(f, "git_commit");
    h.agents = read_strings(f.openDataSet("agent"));
    h.ccodes.assign(h.agents.size(), 0);
    if (f.nameExists("agent_ccode")) {
      const auto codes = read_all<int>(f.openDataSet("agent_ccode"), H5::PredType::NATIVE_INT);
      for (std::size_t a = 0; a < codes.size() && a < h.ccodes.size(); ++a) h.ccodes[a] = std::max(0, codes[a]);
    }
    h.months = read_strings(f.openDataSet("month"));
    h.quantiles = read_all<double>(f.openDataSet("quantile"), H5::PredType::NATIVE_DOUBLE);
    h.events = read_strings(f.openDataSet("event"));
    h.event_titles = read_strings(f.openDataSet("event_title"));
    h.event_dates = read_strings(f.openDataSet("event_date"));
    h.event_kinds = read_strings(f.openDataSet("event_kind"));
    impl_->event_month = f.openDataSet("event_month");
    impl_->alignment = f.openDataSet("alignment");
    impl_->has_eras = f.nameExists("era");
    if (impl_->has_eras) {
      h.eras = read_strings(f.openDataSet("era"));
      h.era_from = read_strings(f.openDataSet("era_from"));
      h.era_to = read_strings(f.openDataSet("era_to"));
      impl_->era_alignment = f.openDataSet("era_alignment");
    }
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read '" + h.path + "': " + e.getDetailMsg());
  }
}

EnsembleReader::~EnsembleReader() = default;

const EnsembleHeader& EnsembleReader::header() const { return impl_->header; }

void EnsembleReader::read(std::uint64_t first, std::uint64_t count, std::vector<std::int16_t>& event_month,
                          std::vector<float>& era_alignment) const {
  const auto& h = impl_->header;
  const auto E = static_cast<hsize_t>(h.events.size());
  const auto N = static_cast<hsize_t>(h.agents.size());
  const auto eras = static_cast<hsize_t>(h.eras.size());
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
  try {
    const auto& f = impl_->file;
    out.mean = read_all<float>(f.openDataSet("alignment_mean"), H5::PredType::NATIVE_FLOAT);
    out.std = read_all<float>(f.openDataSet("alignment_std"), H5::PredType::NATIVE_FLOAT);
    out.quantile = read_all<float>(f.openDataSet("alignment_quantile"), H5::PredType::NATIVE_FLOAT);
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read the summaries of '" + h.path + "': " + e.getDetailMsg());
  }
  const std::size_t cells = h.months.size() * h.agents.size() * h.agents.size();
  if (out.mean.size() != cells || out.std.size() != cells || out.quantile.size() != cells * h.quantiles.size()) {
    throw OutputError("cannot read the summaries of '" + h.path + "': their shapes do not match its dimensions");
  }
  return out;
}

std::vector<float> EnsembleReader::event_probability() const {
  try {
    return read_all<float>(impl_->file.openDataSet("event_probability"), H5::PredType::NATIVE_FLOAT);
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read event_probability of '" + impl_->header.path + "': " + e.getDetailMsg());
  }
}

void EnsembleReader::read_stored(std::uint64_t first, std::uint64_t count, std::vector<float>& alignment) const {
  const auto& h = impl_->header;
  const auto T = static_cast<hsize_t>(h.months.size());
  const auto N = static_cast<hsize_t>(h.agents.size());
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
  auto ds = g.createDataSet(name, type, H5::DataSpace(1, &n));
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  if (n > 0) ds.write(p.data(), type);
  H5DSset_scale(ds.getId(), name.c_str());
}

void write_field(H5::Group& g, const std::string& name, const std::vector<Difference>& rows, double Difference::*field,
                 const std::vector<hsize_t>& dims, const std::vector<H5::DataSet>& scales) {
  std::vector<double> values;
  for (const auto& r : rows) values.push_back(r.*field);
  auto ds = g.createDataSet(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(static_cast<int>(dims.size()), dims.data()));
  if (!values.empty()) ds.write(values.data(), H5::PredType::NATIVE_DOUBLE);
  for (std::size_t k = 0; k < scales.size(); ++k) H5DSattach_scale(ds.getId(), scales[k].getId(), static_cast<unsigned>(k));
}

}  // namespace

void write_comparison_h5(const std::filesystem::path& path, const ComparisonTable& t) {
  H5::Exception::dontPrint();
  try {
    H5::H5File file(path.string(), H5F_ACC_TRUNC);
    auto g = file.createGroup("comparison");
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
      auto ds = g.createDataSet("event_role", type, H5::DataSpace(1, vd.data()));
      std::vector<const char*> p;
      for (const auto& v : roles) p.push_back(v.c_str());
      if (!p.empty()) ds.write(p.data(), type);
      H5DSattach_scale(ds.getId(), event_dims[0].getId(), 0);
    }
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
  } catch (const H5::Exception& e) {
    throw OutputError("cannot write '" + path.string() + "': " + e.getDetailMsg());
  }
}

}  // namespace alignsim
