#include "PartialOutput.hpp"

#include <H5Cpp.h>

#include <sstream>

#include "EnsembleReader.hpp"
#include "H5Create.hpp"
#include "H5Read.hpp"
#include "engine/Ensemble.hpp"

namespace alignsim {

namespace {

constexpr const char* kGroup = "resume";

std::string string_attr(const H5::H5Object& o, const std::string& name) {
  return o.attrExists(name) ? detail::string_attribute(o, name) : "";
}

std::uint64_t number_attr(const H5::H5Object& o, const std::string& name) {
  return o.attrExists(name) ? detail::unsigned_attribute(o, name) : 0;
}

template <class T>
void write_all(H5::Group& g, const std::string& name, const std::vector<T>& values, const H5::PredType& type,
               const std::vector<hsize_t>& dims, bool compress) {
  H5::DSetCreatPropList plist = detail::untimed_dataset_plist();
  if (compress && !values.empty()) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min<hsize_t>(dims[0], 64);
    plist.setChunk(static_cast<int>(chunk.size()), chunk.data());
    plist.setShuffle();
    plist.setDeflate(1);
  }
  auto ds = g.createDataSet(name, type, H5::DataSpace(static_cast<int>(dims.size()), dims.data()), plist);
  if (!values.empty()) ds.write(values.data(), type);
}

template <class T>
void attribute(H5::H5Object& o, const std::string& name, T value, const H5::PredType& type) {
  o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, &value);
}

std::string list(const std::vector<double>& v) {
  std::ostringstream s;
  for (std::size_t k = 0; k < v.size(); ++k) s << (k ? " " : "") << v[k];
  return s.str();
}

}  // namespace

struct PartialOutput::Impl {
  H5::H5File file;
  std::uint64_t runs_done = 0, stored = 0;
  SummaryAccumulator::State summary;
  std::vector<std::uint64_t> event_count;
  std::string created, history;
};

PartialOutput::PartialOutput(const std::filesystem::path& path, const OutputInfo& info, int bins)
    : impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  const std::string shown = "cannot resume '" + path.string() + "': ";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw OutputRefused(shown + "no such file; there is nothing to resume");
  try {
    impl_->file = H5::H5File(path.string(), H5F_ACC_RDONLY);
  } catch (const H5::Exception&) {
    throw OutputRefused(shown + detail::unreadable_reason(path));
  }
  try {
    const auto& f = impl_->file;
    std::string format;
    try {
      format = string_attr(f, "format");
    } catch (const H5::Exception&) {
      throw OutputRefused(shown + detail::never_closed_reason(path));
    }
    if (format != "alignsim-ensemble") {
      throw OutputRefused(shown + "it is not a finished alignsim output (no format = \"alignsim-ensemble\")");
    }
    const std::string status = string_attr(f, "status");
    if (status != "partial") throw OutputRefused(shown + "its status is \"" + status + "\": there is nothing to resume");
    if (!f.nameExists(kGroup)) {
      throw OutputRefused(shown + "it holds no state to resume from (written by an earlier alignsim); run it again");
    }
    const auto g = f.openGroup(kGroup);
    std::vector<std::string> differ;
    const auto same = [&](bool ok, const std::string& what) {
      if (!ok) differ.push_back(what);
    };
    const std::string software = string_attr(f, "software_version") + " (" + string_attr(f, "git_commit") + ")";
    const std::string ours = OutputWriter::software_version() + " (" + OutputWriter::git_commit() + ")";
    same(software == ours, "it was written by alignsim " + software + ", this is alignsim " + ours);
    same(string_attr(f, "scenario_sha256") == sha256_hex(info.scenario_toml),
         "its scenario differs from this one (compare `alignsim resolve` with the file's `scenario` attribute)");
    const auto seed = number_attr(f, "seed");
    same(seed == info.seed, "it was started with --seed " + std::to_string(seed) + ", not " + std::to_string(info.seed));
    const auto runs = number_attr(f, "runs_requested");
    same(runs == info.runs, "it was started with --runs " + std::to_string(runs) + ", not " + std::to_string(info.runs));
    const auto store = number_attr(g, "store_runs");
    same(store == info.stored_runs, "it stores W of " + std::to_string(store) + " runs, not " +
                                        std::to_string(info.stored_runs) + " (--store-runs)");
    const auto deflate = static_cast<int>(number_attr(g, "deflate"));
    same(deflate == info.deflate, "it was started with --deflate " + std::to_string(deflate) + ", not " +
                                      std::to_string(info.deflate));
    const auto block = static_cast<int>(number_attr(g, "block_runs"));
    same(block == effective_block_runs(info.block_runs),
         "it was written in blocks of " + std::to_string(block) + " runs, not " +
             std::to_string(effective_block_runs(info.block_runs)) + " (--block-runs)");
    const auto quantiles = detail::all_values<double>(f.openDataSet("quantile"), 1, H5::PredType::NATIVE_DOUBLE);
    same(quantiles == info.quantiles,
         "its quantile levels are " + list(quantiles) + ", not " + list(info.quantiles) + " (--quantiles)");
    const auto file_bins = static_cast<int>(number_attr(f, "histogram_bins"));
    same(file_bins == bins, "its histograms have " + std::to_string(file_bins) + " bins, not " + std::to_string(bins));
    if (!differ.empty()) {
      std::string why;
      for (const auto& d : differ) why += (why.empty() ? "" : "; ") + d;
      throw OutputRefused(shown + why + ". A resumed file must come from the same command and build");
    }
    auto& s = impl_->summary;
    impl_->runs_done = number_attr(f, "runs");
    impl_->stored = number_attr(f, "stored_runs");
    s.runs = number_attr(g, "summary_runs");
    s.sum = detail::all_values<std::int64_t>(g.openDataSet("sum"), 1, H5::PredType::NATIVE_INT64);
    s.sum_squares = detail::all_values<std::uint64_t>(g.openDataSet("sum_squares"), 2, H5::PredType::NATIVE_UINT64);
    s.histogram = detail::all_values<std::uint32_t>(g.openDataSet("histogram"), 2, H5::PredType::NATIVE_UINT32);
    impl_->event_count = detail::all_values<std::uint64_t>(g.openDataSet("event_count"), 1, H5::PredType::NATIVE_UINT64);
    impl_->created = string_attr(f, "created");
    impl_->history = string_attr(f, "history");
    if (s.runs != impl_->runs_done || impl_->runs_done == 0 || impl_->runs_done >= info.runs) {
      throw OutputRefused(shown + "its runs (" + std::to_string(impl_->runs_done) + ") disagree with its saved state");
    }
  } catch (const H5::Exception& e) {
    throw OutputRefused(shown + "it is damaged (" + e.getDetailMsg() + ")");
  }
}

PartialOutput::~PartialOutput() = default;

std::uint64_t PartialOutput::runs_done() const { return impl_->runs_done; }
std::uint64_t PartialOutput::stored_runs() const { return impl_->stored; }
const SummaryAccumulator::State& PartialOutput::summary() const { return impl_->summary; }
const std::vector<std::uint64_t>& PartialOutput::event_count() const { return impl_->event_count; }
const std::string& PartialOutput::created() const { return impl_->created; }
const std::string& PartialOutput::history() const { return impl_->history; }

RawChunk PartialOutput::chunk(const std::string& dataset, const std::vector<std::uint64_t>& offset) const {
  H5::Exception::dontPrint();
  const std::vector<hsize_t> at(offset.begin(), offset.end());
  try {
    const auto ds = impl_->file.openDataSet(dataset);
    hsize_t bytes = 0;
    if (H5Dget_chunk_storage_size(ds.getId(), at.data(), &bytes) < 0) throw H5::Exception("H5Dget_chunk_storage_size");
    RawChunk out;
    out.bytes.resize(bytes);
    if (H5Dread_chunk(ds.getId(), H5P_DEFAULT, at.data(), &out.filter_mask, out.bytes.data()) < 0) {
      throw H5::Exception("H5Dread_chunk");
    }
    return out;
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read '" + dataset + "' of the file to resume: " + e.getDetailMsg());
  }
}

namespace detail {

void write_resume_state(H5::H5File& file, const SummaryAccumulator::State& state,
                        const std::vector<std::uint64_t>& event_count, const OutputInfo& info) {
  auto group = detail::create_untimed_group(file.openGroup("/"), kGroup);
  attribute(group, "summary_runs", state.runs, H5::PredType::NATIVE_UINT64);
  attribute(group, "store_runs", info.stored_runs, H5::PredType::NATIVE_UINT64);
  attribute(group, "deflate", static_cast<std::int32_t>(info.deflate), H5::PredType::NATIVE_INT32);
  attribute(group, "block_runs", static_cast<std::int32_t>(effective_block_runs(info.block_runs)),
            H5::PredType::NATIVE_INT32);
  const hsize_t cells = state.sum.size();
  write_all(group, "sum", state.sum, H5::PredType::NATIVE_INT64, {cells}, false);
  write_all(group, "sum_squares", state.sum_squares, H5::PredType::NATIVE_UINT64, {cells, 2}, false);
  const hsize_t bins = cells ? state.histogram.size() / cells : 0;
  write_all(group, "histogram", state.histogram, H5::PredType::NATIVE_UINT32, {cells, bins}, true);
  write_all(group, "event_count", event_count, H5::PredType::NATIVE_UINT64, {event_count.size()}, false);
}

}  // namespace detail

}  // namespace alignsim
