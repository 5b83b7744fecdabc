#include "OutputWriter.hpp"

#include <H5Cpp.h>
#include <hdf5_hl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "H5Create.hpp"
#include "PartialOutput.hpp"
#include "alignsim/GitCommit.hpp"
#include "alignsim/Version.hpp"

namespace alignsim {

namespace fs = std::filesystem;

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

namespace {

constexpr std::int32_t kNoCode = -1;  ///< agent_ccode of an agent whose scenario gives no code

}  // namespace

std::string OutputWriter::software_version() { return ALIGNSIM_VERSION; }
std::string OutputWriter::git_commit() { return ALIGNSIM_GIT_COMMIT; }

namespace {

using Dims = std::vector<hsize_t>;

H5::StrType string_type() {
  H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  t.setCset(H5T_CSET_UTF8);
  return t;
}

void attr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  const auto t = string_type();
  auto a = obj.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(t, &p);
}

template <class T>
void attr(H5::H5Object& obj, const std::string& name, T value, const H5::PredType& type) {
  auto a = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  a.write(type, &value);
}

/// The creation time, or SOURCE_DATE_EPOCH when set (reproducible files: two identical runs then
/// give files that h5diff finds identical).
std::string utc_now() {
  std::time_t now = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH")) now = static_cast<std::time_t>(std::strtoll(epoch, nullptr, 10));
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

struct OutputWriter::Impl {
  std::unique_ptr<OutputPath> owned;  ///< when the writer made its own
  OutputPath* output = nullptr;
  const Scenario& scenario;
  const Model& model;
  OutputInfo info;
  H5::H5File file;
  std::map<std::string, H5::DataSet> scales;
  H5::DataSet alignment, event_month, run, sample, sample_run, era_alignment;
  BlockPacker packer;
  hsize_t chunk_runs = 1;  ///< runs per chunk of event_month and era_alignment: one block
  /// Runs 0 .. runs_written - 1 are written; blocks from several processes may come in any order,
  /// and `ahead` holds those past a gap (first run -> end). The run dimensions reach runs_extent,
  /// the stored ones stored_written.
  std::uint64_t runs_written = 0, stored_written = 0, runs_extent = 0;
  std::map<std::uint64_t, std::uint64_t> ahead;
  bool finished = false;
  bool failed = false;  ///< a write failed
  std::optional<SummaryAccumulator::State> resume_state;
  std::string created, history;  ///< of the partial file this one continues (empty: a new file)

  Impl(OutputPath& o, const Scenario& s, const Model& m, OutputInfo i)
      : output(&o), scenario(s), model(m), info(std::move(i)), packer(m, info.runs, info.block_runs, info.deflate) {}

  [[noreturn]] void fail(const std::string& what, const std::string& detail) {
    failed = true;
    std::string reason = detail;
    if (errno == ENOSPC) reason = "no space left on device (" + detail + ")";
    throw OutputError("cannot write '" + output->path().string() + "': " + what + ": " + reason);
  }

  H5::DataSet dataset(const std::string& name, const H5::DataType& type, const Dims& dims, const Dims& chunk = {},
                      int deflate = 0, const Dims& maxdims = {}) {
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxdims.empty() ? nullptr : maxdims.data());
    H5::DSetCreatPropList plist = detail::untimed_dataset_plist();
    if (!chunk.empty()) {
      plist.setChunk(static_cast<int>(chunk.size()), chunk.data());
      if (deflate > 0) {
        plist.setShuffle();
        plist.setDeflate(deflate);
      }
    }
    return file.createDataSet(name, type, space, plist);
  }

  H5::DataSet scale(const std::string& name, const H5::DataType& type, hsize_t length, const std::string& long_name) {
    auto ds = dataset(name, type, {length});
    H5DSset_scale(ds.getId(), name.c_str());
    attr(ds, "long_name", long_name);
    scales[name] = ds;
    return ds;
  }

  void attach(H5::DataSet& var, const std::vector<std::string>& dims) {
    for (std::size_t k = 0; k < dims.size(); ++k) {
      if (H5DSattach_scale(var.getId(), scales.at(dims[k]).getId(), static_cast<unsigned>(k)) < 0) {
        throw H5::Exception("H5DSattach_scale", "cannot attach dimension scale " + dims[k]);
      }
    }
  }

  void strings(H5::DataSet& ds, const std::vector<std::string>& values) {
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    if (!pointers.empty()) ds.write(pointers.data(), string_type());
  }

  H5::DataSet string_variable(const std::string& name, const std::string& dim, const std::vector<std::string>& values,
                              const std::string& long_name) {
    auto ds = dataset(name, string_type(), {values.size()});
    strings(ds, values);
    attach(ds, {dim});
    attr(ds, "long_name", long_name);
    return ds;
  }

  void create() {
    const fs::path& temp_path = output->temp_path();
    const H5::FileCreatPropList fcpl = detail::untimed_file_plist();
    try {
      file = H5::H5File(temp_path.string(), H5F_ACC_TRUNC, fcpl);
    } catch (const H5::Exception& e) {
      throw OutputError("cannot write '" + output->path().string() + "': cannot create '" + temp_path.string() + "' (" +
                        (errno ? std::strerror(errno) : e.getDetailMsg()) + ")");
    }
    write_axes();
  }

  void write_axes() {
    const int n = model.agents();
    const int months = model.months();
    const auto T = static_cast<hsize_t>(months);
    const auto N = static_cast<hsize_t>(n);
    const auto E = static_cast<hsize_t>(scenario.event_count());
    const hsize_t R = info.runs;
    const hsize_t K = info.stored_runs;
    const Month start = scenario.parameters.start;
    const Month epoch = Month::of(1947, 1);

    auto time = scale("time", H5::PredType::NATIVE_DOUBLE, T, "first day of the month");
    std::vector<double> days;
    std::vector<std::string> month_names;
    for (int t = 0; t < months; ++t) {
      days.push_back(static_cast<double>((start + t).days_since(epoch)));
      month_names.push_back((start + t).str());
    }
    time.write(days.data(), H5::PredType::NATIVE_DOUBLE);
    attr(time, "units", "days since 1947-01-01");
    attr(time, "calendar", "standard");
    attr(time, "standard_name", "time");
    attr(time, "axis", "T");
    string_variable("month", "time", month_names, "month, YYYY-MM");

    std::vector<std::string> ids, names;
    for (const auto& a : scenario.agents) {
      ids.push_back(a.id);
      names.push_back(a.name);
    }
    auto agent = scale("agent", string_type(), N, "agent whose disposition W[agent, other] is");
    strings(agent, ids);
    auto other = scale("other", string_type(), N, "agent toward whom the disposition is");
    strings(other, ids);
    string_variable("agent_name", "agent", names, "display name at the start of the horizon");
    std::vector<std::int32_t> codes;
    for (const auto& a : scenario.agents) codes.push_back(a.ccode > 0 ? a.ccode : kNoCode);
    H5::DSetCreatPropList fill = detail::untimed_dataset_plist();
    fill.setFillValue(H5::PredType::NATIVE_INT32, &kNoCode);
    auto ccode = file.createDataSet("agent_ccode", H5::PredType::NATIVE_INT32, H5::DataSpace(1, &N), fill);
    ccode.write(codes.data(), H5::PredType::NATIVE_INT32);
    attach(ccode, {"agent"});
    attr(ccode, "long_name", "Correlates of War state code of the agent");
    attr(ccode, "_FillValue", kNoCode, H5::PredType::NATIVE_INT32);

    std::vector<std::string> issue_ids, meanings;
    for (const auto& i : scenario.issues) {
      issue_ids.push_back(i.id);
      meanings.push_back(i.meaning);
    }
    auto issue = scale("issue", string_type(), issue_ids.size(), "issue");
    strings(issue, issue_ids);
    string_variable("issue_meaning", "issue", meanings, "what -1 and +1 mean on the issue");

    std::vector<std::string> event_ids, titles, dates, kinds;
    for (const auto& e : scenario.events) {
      event_ids.push_back(e.id);
      titles.push_back(e.title);
      dates.push_back(e.date.str());
      kinds.push_back(e.kind);
    }
    auto event = scale("event", string_type(), E, "event id");
    strings(event, event_ids);
    string_variable("event_title", "event", titles, "event title");
    string_variable("event_date", "event", dates, "historical or scheduled date, YYYY-MM");
    string_variable("event_kind", "event", kinds, "event kind");

    auto quantile = scale("quantile", H5::PredType::NATIVE_DOUBLE, info.quantiles.size(), "quantile level");
    if (!info.quantiles.empty()) quantile.write(info.quantiles.data(), H5::PredType::NATIVE_DOUBLE);

    const hsize_t run_chunk = std::min<hsize_t>(R, 4096);
    chunk_runs = packer.chunk_runs();
    // Every run dimension starts empty and grows block by block (grow_to): an interrupted file is
    // then finished at once, where shrinking it would visit every chunk of the runs requested.
    run = dataset("run", H5::PredType::NATIVE_INT64, {0}, {run_chunk}, 0, {R});
    H5DSset_scale(run.getId(), "run");
    attr(run, "long_name", "run index");
    scales["run"] = run;

    const hsize_t k_chunk = std::max<hsize_t>(1, std::min<hsize_t>(K, 4096));
    sample = dataset("sample", H5::PredType::NATIVE_INT64, {0}, {k_chunk}, 0, {K});
    H5DSset_scale(sample.getId(), "sample");
    attr(sample, "long_name", "stored run number");
    scales["sample"] = sample;
    sample_run = dataset("sample_run", H5::PredType::NATIVE_INT64, {0}, {k_chunk}, 0, {K});
    attach(sample_run, {"sample"});
    attr(sample_run, "long_name", "run index of the stored run");

    alignment = dataset("alignment", H5::PredType::NATIVE_FLOAT, {0, T, N, N}, {1, T, N, N}, info.deflate,
                        {K, T, N, N});
    attach(alignment, {"sample", "time", "agent", "other"});
    attr(alignment, "long_name", "alignment W[agent, other] after the month's step");
    attr(alignment, "units", "1");
    attr(alignment, "valid_range_note", "[-1, 1]; NaN on the diagonal, where W is undefined");

    if (!scenario.eras.empty()) {
      std::vector<std::string> era_ids, era_titles, era_from, era_to;
      for (const auto& e : scenario.eras) {
        era_ids.push_back(e.id);
        era_titles.push_back(e.title);
        era_from.push_back(e.from.str());
        era_to.push_back(e.to.str());
      }
      auto era = scale("era", string_type(), era_ids.size(), "era id");
      strings(era, era_ids);
      string_variable("era_title", "era", era_titles, "era title");
      string_variable("era_from", "era", era_from, "first month of the era, YYYY-MM");
      string_variable("era_to", "era", era_to, "last month of the era, YYYY-MM");
      const auto eras = static_cast<hsize_t>(era_ids.size());
      era_alignment = dataset("era_alignment", H5::PredType::NATIVE_FLOAT, {0, eras, N, N}, {chunk_runs, eras, N, N}, 1,
                              {R, eras, N, N});
      attach(era_alignment, {"run", "era", "agent", "other"});
      attr(era_alignment, "long_name", "each run's mean over the era's months of M = (W + W^T) / 2");
      attr(era_alignment, "units", "1");
    }

    const hsize_t e_chunk = std::max<hsize_t>(1, E);
    event_month = dataset("event_month", H5::PredType::NATIVE_INT16, {0, E}, {chunk_runs, e_chunk}, 1, {R, E});
    attach(event_month, {"run", "event"});
    attr(event_month, "long_name", "index along time of the month the event happened; -1: it did not");
  }

  void write_chunk(H5::DataSet& ds, const std::vector<std::uint64_t>& offset, const void* data, std::size_t bytes) {
    const std::vector<hsize_t> at(offset.begin(), offset.end());
    if (H5Dwrite_chunk(ds.getId(), H5P_DEFAULT, 0, at.data(), bytes, data) < 0) {
      throw H5::Exception("H5Dwrite_chunk", "cannot write a chunk");
    }
  }

  /// Sets the run dimensions to `runs` runs, and the stored runs' to `stored`.
  void resize_runs(std::uint64_t runs, std::uint64_t stored) {
    const auto T = static_cast<hsize_t>(model.months());
    const auto N = static_cast<hsize_t>(model.agents());
    if (runs != runs_extent) {
      const Dims r{runs}, re{runs, static_cast<hsize_t>(scenario.event_count())};
      run.extend(r.data());
      event_month.extend(re.data());
      if (!scenario.eras.empty()) {
        const Dims ea{runs, static_cast<hsize_t>(scenario.eras.size()), N, N};
        era_alignment.extend(ea.data());
      }
      runs_extent = runs;
    }
    if (stored != stored_written) {
      const Dims k{stored}, a{stored, T, N, N};
      sample.extend(k.data());
      sample_run.extend(k.data());
      alignment.extend(a.data());
      stored_written = stored;
    }
  }

  /// Extends the run dimensions to at least `runs` runs, of which `stored` have W stored.
  void grow_to(std::uint64_t runs, std::uint64_t stored) {
    resize_runs(std::max(runs, runs_extent), std::max(stored, stored_written));
  }

  /// Writes a packed block; W of its stored runs comes from `raw` when the block holds none.
  void write_packed(const PackedBlock& b, const RunBlock* raw) {
    const auto count = static_cast<hsize_t>(b.count);
    const hsize_t first = b.first;
    grow_to(first + count, b.stored > 0 ? first + static_cast<hsize_t>(b.stored) : 0);
    for (const auto& c : b.chunks) {
      H5::DataSet& ds = c.dataset == ChunkedDataset::EventMonth     ? event_month
                        : c.dataset == ChunkedDataset::EraAlignment ? era_alignment
                                                                    : alignment;
      write_chunk(ds, c.offset, c.data, c.size);
    }
    std::vector<std::int64_t> indices(b.count);
    for (int r = 0; r < b.count; ++r) indices[r] = static_cast<std::int64_t>(b.first) + r;
    write_slab(run, {first}, {count}, indices.data(), H5::PredType::NATIVE_INT64);
    if (b.stored > 0) {
      const auto stored = static_cast<hsize_t>(b.stored);
      if (raw && info.deflate == 0) {
        const std::size_t per_run = static_cast<std::size_t>(model.months()) * model.agents() * model.agents();
        for (int r = 0; r < b.stored; ++r) {
          write_chunk(alignment, {b.first + static_cast<std::uint64_t>(r), 0, 0, 0}, &raw->alignment[r * per_run],
                      per_run * sizeof(float));
        }
      }
      write_slab(sample, {first}, {stored}, indices.data(), H5::PredType::NATIVE_INT64);
      write_slab(sample_run, {first}, {stored}, indices.data(), H5::PredType::NATIVE_INT64);
    }
    ahead[first] = first + count;
    for (auto it = ahead.find(runs_written); it != ahead.end(); it = ahead.find(runs_written)) {
      runs_written = it->second;
      ahead.erase(it);
    }
  }

  void write_slab(H5::DataSet& ds, const Dims& start, const Dims& count, const void* data, const H5::PredType& type) {
    H5::DataSpace file_space = ds.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
    H5::DataSpace memory(static_cast<int>(count.size()), count.data());
    ds.write(data, type, memory, file_space);
  }

  /// `run_draw[run]` (the posterior draw each run took, written from the plan, which is a function of
  /// the run index) and the posterior file's attributes.
  void write_posterior(const PosteriorRunInfo& p, std::uint64_t runs_done) {
    const hsize_t chunk = std::clamp<hsize_t>(runs_done, 1, 65536);
    auto draw = dataset("run_draw", H5::PredType::NATIVE_INT32, {runs_done}, {chunk}, 1, {runs_done});
    std::vector<std::int32_t> values;
    for (std::uint64_t first = 0; first < runs_done; first += chunk) {
      const std::uint64_t count = std::min<std::uint64_t>(chunk, runs_done - first);
      values.resize(count);
      for (std::uint64_t r = 0; r < count; ++r) values[r] = static_cast<std::int32_t>(p.run_draw(first + r));
      write_slab(draw, {first}, {count}, values.data(), H5::PredType::NATIVE_INT32);
    }
    attach(draw, {"run"});
    attr(draw, "long_name", "the posterior draw (row of the posterior file, from 0) whose parameters the run used");
    auto root = file.openGroup("/");
    attr(root, "posterior", p.path);
    attr(root, "posterior_sha256", p.sha256);
    attr(root, "posterior_draws", p.draws, H5::PredType::NATIVE_UINT64);
    attr(root, "posterior_kept", p.kept);
    attr(root, "posterior_unused", p.unused);
  }

  void finish(const Summary& summary, const std::vector<std::uint64_t>& event_count, std::uint64_t runs_done,
              bool complete) {
    write_summaries(summary, event_count, runs_done, complete);
    // Every object is closed before the file, so that closing it writes the file whole before it
    // takes its name: a process killed after the rename (mpirun's SIGKILL after its SIGTERM, say)
    // then leaves a file that opens, not one whose metadata was still in memory.
    for (auto* ds : {&alignment, &event_month, &run, &sample, &sample_run, &era_alignment}) ds->close();
    scales.clear();
    if (file.getObjCount(H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR) != 0) {
      fail("closing the file", "an object of the file is still open, so closing would not write it whole");
    }
    file.close();
    output->commit();
    finished = true;
  }

  void write_summaries(const Summary& summary, const std::vector<std::uint64_t>& event_count,
                       std::uint64_t runs_done, bool complete) {
    const auto T = static_cast<hsize_t>(model.months());
    const auto N = static_cast<hsize_t>(model.agents());
    const auto E = static_cast<hsize_t>(scenario.event_count());
    const auto Q = static_cast<hsize_t>(info.quantiles.size());
    if (runs_done > runs_written) throw std::logic_error("finish() for runs that were not written");
    // Blocks written from several processes may reach past runs_done when the job was interrupted:
    // the stored runs are the first ones of the runs kept.
    resize_runs(runs_done, std::min<std::uint64_t>(stored_written, runs_done));
    auto mean = dataset("alignment_mean", H5::PredType::NATIVE_FLOAT, {T, N, N});
    mean.write(summary.mean.data(), H5::PredType::NATIVE_FLOAT);
    attach(mean, {"time", "agent", "other"});
    attr(mean, "long_name", "mean over all runs of the dyad alignment M = (W + W^T) / 2");
    attr(mean, "units", "1");
    auto sd = dataset("alignment_std", H5::PredType::NATIVE_FLOAT, {T, N, N});
    sd.write(summary.std.data(), H5::PredType::NATIVE_FLOAT);
    attach(sd, {"time", "agent", "other"});
    attr(sd, "long_name", "standard deviation over all runs of M (ddof = 1)");
    attr(sd, "units", "1");
    auto q = dataset("alignment_quantile", H5::PredType::NATIVE_FLOAT, {Q, T, N, N});
    if (Q > 0) q.write(summary.quantile.data(), H5::PredType::NATIVE_FLOAT);
    attach(q, {"quantile", "time", "agent", "other"});
    attr(q, "long_name", "quantiles over all runs of M, from fixed-bin histograms over [-1, 1]");
    attr(q, "units", "1");
    std::vector<float> probability;
    for (const auto c : event_count) {
      probability.push_back(runs_done ? static_cast<float>(static_cast<double>(c) / static_cast<double>(runs_done)) : 0.0f);
    }
    auto p = dataset("event_probability", H5::PredType::NATIVE_FLOAT, {E});
    if (E > 0) p.write(probability.data(), H5::PredType::NATIVE_FLOAT);
    attach(p, {"event"});
    attr(p, "long_name", "share of runs in which the event happened");

    if (info.posterior) write_posterior(*info.posterior, runs_done);
    auto root = file.openGroup("/");
    attr(root, "Conventions", "CF-1.8");
    attr(root, "title", scenario.title);
    attr(root, "format", "alignsim-ensemble");
    attr(root, "format_version", 1, H5::PredType::NATIVE_INT32);
    attr(root, "software", "alignsim");
    attr(root, "software_version", software_version());
    attr(root, "git_commit", git_commit());
    const std::string now = utc_now();
    const std::string created_at = created.empty() ? now : created;  // a resumed file was created when started
    attr(root, "created", created_at);
    attr(root, "scenario", info.scenario_toml);
    attr(root, "scenario_sha256", sha256_hex(info.scenario_toml));
    attr(root, "seed", info.seed, H5::PredType::NATIVE_UINT64);
    attr(root, "runs", runs_done, H5::PredType::NATIVE_UINT64);
    attr(root, "runs_requested", info.runs, H5::PredType::NATIVE_UINT64);
    attr(root, "stored_runs", stored_written, H5::PredType::NATIVE_UINT64);
    attr(root, "histogram_bins", summary.bins, H5::PredType::NATIVE_INT32);
    attr(root, "status", complete ? "complete" : "partial");
    attr(root, "history", (history.empty() ? "" : history + "\n") + now + ": " + info.history);
    if (!complete && resume_state) detail::write_resume_state(file, *resume_state, event_count, info);
  }

  /// Runs 0 .. runs_done - 1 of a partial file written with the same options: its chunks as stored.
  void copy_runs(const PartialOutput& from) {
    const std::uint64_t runs = from.runs_done(), stored = from.stored_runs();
    if (runs % chunk_runs != 0 || stored > std::min(runs, info.stored_runs)) {
      throw std::logic_error("a partial file must end on a whole block");
    }
    grow_to(runs, stored);
    const auto copy = [&](H5::DataSet& ds, const char* name, const std::vector<std::uint64_t>& offset) {
      const RawChunk c = from.chunk(name, offset);
      const std::vector<hsize_t> at(offset.begin(), offset.end());
      if (H5Dwrite_chunk(ds.getId(), H5P_DEFAULT, c.filter_mask, at.data(), c.bytes.size(), c.bytes.data()) < 0) {
        throw H5::Exception("H5Dwrite_chunk", "cannot write a chunk");
      }
    };
    for (std::uint64_t first = 0; first < runs; first += chunk_runs) {
      if (scenario.event_count() > 0) copy(event_month, "event_month", {first, 0});
      if (!scenario.eras.empty()) copy(era_alignment, "era_alignment", {first, 0, 0, 0});
    }
    for (std::uint64_t r = 0; r < stored; ++r) copy(alignment, "alignment", {r, 0, 0, 0});
    std::vector<std::int64_t> indices(runs);
    for (std::uint64_t r = 0; r < runs; ++r) indices[r] = static_cast<std::int64_t>(r);
    write_slab(run, {0}, {runs}, indices.data(), H5::PredType::NATIVE_INT64);
    if (stored > 0) {
      write_slab(sample, {0}, {stored}, indices.data(), H5::PredType::NATIVE_INT64);
      write_slab(sample_run, {0}, {stored}, indices.data(), H5::PredType::NATIVE_INT64);
    }
    runs_written = runs;
    stored_written = stored;
    created = from.created();
    history = from.history();
  }
};

OutputWriter::OutputWriter(OutputPath& out, const Scenario& scenario, const Model& model, OutputInfo info)
    : impl_(std::make_unique<Impl>(out, scenario, model, std::move(info))) {
  H5::Exception::dontPrint();
  try {
    impl_->create();
  } catch (const H5::Exception& e) {
    impl_->fail("creating the file", e.getDetailMsg());
  }
}

OutputWriter::OutputWriter(const fs::path& path, const Scenario& scenario, const Model& model, OutputInfo info)
    : OutputWriter(*std::make_unique<OutputPath>(path, std::vector<fs::path>{}, false, "output").release(), scenario,
                   model, std::move(info)) {
  impl_->owned.reset(impl_->output);
}

void OutputWriter::copy_runs(const PartialOutput& from) {
  H5::Exception::dontPrint();
  errno = 0;
  try {
    impl_->copy_runs(from);
  } catch (const H5::Exception& e) {
    impl_->fail("copying the runs of the partial file", e.getDetailMsg());
  }
}

void OutputWriter::keep_resume_state(const SummaryAccumulator& accumulator) { impl_->resume_state = accumulator.state(); }

OutputWriter::~OutputWriter() {
  if (impl_->finished) return;
  // After a failed write (a full disk, say) HDF5's C++ destructors report their own failures on
  // stderr, below the message that already explains them: they are muted while the file is closed.
  std::ostringstream muted;
  std::streambuf* previous = impl_->failed ? std::cerr.rdbuf(muted.rdbuf()) : nullptr;
  try {
    impl_->file.close();
  } catch (...) {
  }
  impl_->output->discard();
  impl_.reset();
  if (previous) std::cerr.rdbuf(previous);
}

void OutputWriter::prepare(RunBlock& block) { block.packed = impl_->packer.pack(block, false); }

void OutputWriter::write_block(const RunBlock& block) {
  const auto packed = block.packed.empty() ? impl_->packer.pack(block, false) : std::vector<unsigned char>{};
  const auto& bytes = block.packed.empty() ? packed : block.packed;
  write(BlockPacker::unpack(bytes.data(), bytes.size()), &block);
}

void OutputWriter::write_packed(const unsigned char* data, std::size_t size) {
  write(BlockPacker::unpack(data, size), nullptr);
}

void OutputWriter::write(const PackedBlock& block, const RunBlock* raw) {
  // Blocks are written from whichever worker thread runs the serial stage; HDF5 keeps its
  // error-printing setting per thread, and the errors it would print are reported as exceptions.
  H5::Exception::dontPrint();
  errno = 0;
  try {
    impl_->write_packed(block, raw);
  } catch (const H5::Exception& e) {
    impl_->fail("writing runs " + std::to_string(block.first) + " to " + std::to_string(block.first + block.count - 1),
                e.getDetailMsg());
  }
}

void OutputWriter::finish(const Summary& summary, const std::vector<std::uint64_t>& event_count,
                          std::uint64_t runs_done, bool complete) {
  H5::Exception::dontPrint();
  errno = 0;
  try {
    impl_->finish(summary, event_count, runs_done, complete);
  } catch (const H5::Exception& e) {
    impl_->fail("writing the summaries", e.getDetailMsg());
  }
}

}  // namespace alignsim
