// The output file: written through the real writer, read back through the HDF5 library.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "io/EnsembleReader.hpp"
#include "io/OutputWriter.hpp"
#include "model/Model.hpp"
#include "scenario/ScenarioLoader.hpp"
#include "scenario/ScenarioWriter.hpp"

using namespace alignsim;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  const auto dir = fs::temp_directory_path() / ("alignsim_test_io_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
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

std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  const auto space = ds.getSpace();
  std::vector<hsize_t> d(static_cast<std::size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(d.data());
  return d;
}

struct Written {
  EnsembleResult result;
};

EnsembleResult write(const fs::path& path, const Scenario& s, const Model& m, std::uint64_t runs,
                     std::atomic<bool>* stop = nullptr, std::uint64_t stop_after = 0) {
  OutputInfo info;
  info.scenario_toml = to_toml(s);
  info.seed = 5;
  info.runs = runs;
  info.stored_runs = 20;
  info.quantiles = {0.05, 0.5, 0.95};
  info.history = "test";
  info.block_runs = 16;
  OutputWriter writer(path, s, m, info);
  struct Stopper final : BlockSink {
    OutputWriter& w;
    std::atomic<bool>* stop;
    std::uint64_t after;
    Stopper(OutputWriter& writer, std::atomic<bool>* s, std::uint64_t a) : w(writer), stop(s), after(a) {}
    void write_block(const RunBlock& b) override {
      w.write_block(b);
      if (stop && b.first + static_cast<std::uint64_t>(b.count) >= after) stop->store(true);
    }
  } sink(writer, stop, stop_after);
  EnsembleOptions o;
  o.runs = runs;
  o.seed = 5;
  o.threads = 2;
  o.block_runs = 16;
  o.store_runs = 20;
  auto result = run_ensemble(m, o, sink, stop);
  writer.finish(result.summary.finish(info.quantiles), result.event_count, result.runs_done, !result.interrupted);
  return result;
}

}  // namespace

TEST_CASE("the output file has the dimensions, variables and attributes of the v1 format") {
  const auto dir = temp_dir();
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const Model m(s);
  write(dir / "out.h5", s, m, 100);
  REQUIRE(fs::exists(dir / "out.h5"));
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().filename() == "out.h5");  // no temp left

  H5::H5File f((dir / "out.h5").string(), H5F_ACC_RDONLY);
  CHECK(string_attr(f, "Conventions") == "CF-1.8");
  CHECK(string_attr(f, "format") == "alignsim-ensemble");
  CHECK(string_attr(f, "status") == "complete");
  CHECK(u64_attr(f, "runs") == 100);
  CHECK(u64_attr(f, "stored_runs") == 20);
  CHECK(u64_attr(f, "seed") == 5);
  CHECK(string_attr(f, "scenario") == to_toml(s));
  CHECK(string_attr(f, "scenario_sha256") == sha256_hex(to_toml(s)));
  CHECK(string_attr(f, "scenario_sha256").size() == 64);

  CHECK(dims_of(f.openDataSet("alignment")) == std::vector<hsize_t>{20, 24, 3, 3});
  CHECK(dims_of(f.openDataSet("event_month")) == std::vector<hsize_t>{100, 6});
  CHECK(dims_of(f.openDataSet("alignment_mean")) == std::vector<hsize_t>{24, 3, 3});
  CHECK(dims_of(f.openDataSet("alignment_quantile")) == std::vector<hsize_t>{3, 24, 3, 3});
  CHECK(dims_of(f.openDataSet("event_probability")) == std::vector<hsize_t>{6});
  CHECK(dims_of(f.openDataSet("time")) == std::vector<hsize_t>{24});

  std::vector<double> time(24);
  f.openDataSet("time").read(time.data(), H5::PredType::NATIVE_DOUBLE);
  CHECK(time[0] == 1096);  // 1950-01-01 is 3 * 365 + 1 (1948) days after 1947-01-01
  std::vector<float> p(6);
  f.openDataSet("event_probability").read(p.data(), H5::PredType::NATIVE_FLOAT);
  CHECK(p[0] == 1.0f);  // the visit is certain
  CHECK(p[5] == 1.0f);
  CHECK(p[1] > 0.2f);
  CHECK(p[1] < 0.8f);
  fs::remove_all(dir);
}

TEST_CASE("an interrupted run leaves a partial file with whole runs only") {
  const auto dir = temp_dir();
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const Model m(s);
  std::atomic<bool> stop{false};
  const auto result = write(dir / "partial.h5", s, m, 100000, &stop, 64);
  REQUIRE(result.interrupted);
  H5::H5File f((dir / "partial.h5").string(), H5F_ACC_RDONLY);
  CHECK(string_attr(f, "status") == "partial");
  CHECK(u64_attr(f, "runs") == result.runs_done);
  CHECK(dims_of(f.openDataSet("event_month"))[0] == result.runs_done);
  CHECK(dims_of(f.openDataSet("run"))[0] == result.runs_done);
  CHECK(dims_of(f.openDataSet("alignment"))[0] == 20);
  fs::remove_all(dir);
}

TEST_CASE("a bad output path is an error naming the file, and leaves nothing behind") {
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const Model m(s);
  OutputInfo info;
  info.runs = 10;
  try {
    OutputWriter w("/nonexistent/folder/out.h5", s, m, info);
    FAIL("no error for a missing folder");
  } catch (const OutputError& e) {
    CHECK(std::string(e.what()).find("/nonexistent/folder/out.h5") != std::string::npos);
    CHECK(std::string(e.what()).find("does not exist") != std::string::npos);
  }
  const auto dir = temp_dir();
  {
    OutputWriter w(dir / "abandoned.h5", s, m, info);
    // destroyed without finish(), as when an error stops the run
  }
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

namespace {

/// Every element of a dataset, as bytes.
std::vector<char> bytes_of(const H5::H5File& f, const std::string& name) {
  const auto ds = f.openDataSet(name);
  std::size_t count = 1;
  for (const auto d : dims_of(ds)) count *= d;
  const auto type = ds.getDataType();
  std::vector<char> out(count * type.getSize());
  if (count > 0) ds.read(out.data(), type);
  return out;
}

/// Keeps each block as another process would send it: packed with its raw W.
class Packed final : public BlockSink {
 public:
  explicit Packed(const BlockPacker& p) : packer(p) {}
  void write_block(const RunBlock& b) override { blocks.push_back(packer.pack(b, true)); }
  const BlockPacker& packer;
  std::vector<std::vector<unsigned char>> blocks;
};

}  // namespace

TEST_CASE("blocks packed in another process and written in any order give the same file") {
  const auto dir = temp_dir();
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const Model m(s);
  for (const int deflate : {0, 1}) {
    CAPTURE(deflate);
    const auto at = dir / std::to_string(deflate);
    fs::create_directory(at);
    OutputInfo info;
    info.scenario_toml = to_toml(s);
    info.seed = 5;
    info.runs = 100;
    info.stored_runs = 20;
    info.quantiles = {0.5};
    info.deflate = deflate;
    info.block_runs = 16;
    EnsembleOptions o;
    o.runs = 100;
    o.seed = 5;
    o.threads = 2;
    o.block_runs = 16;
    o.store_runs = 20;
    const BlockPacker packer(m, info.runs, info.block_runs, deflate);
    Packed packed(packer);
    const auto result = run_ensemble(m, o, packed);
    REQUIRE(packed.blocks.size() == 7);
    {
      OutputWriter in_order(at / "in_order.h5", s, m, info);
      run_ensemble(m, o, in_order);
      in_order.finish(result.summary.finish(info.quantiles), result.event_count, 100, true);
    }
    {
      OutputWriter reversed(at / "reversed.h5", s, m, info);
      for (auto b = packed.blocks.rbegin(); b != packed.blocks.rend(); ++b) reversed.write_packed(b->data(), b->size());
      reversed.finish(result.summary.finish(info.quantiles), result.event_count, 100, true);
    }
    {
      // Interrupted after the first three blocks, with two later blocks already written.
      OutputWriter partial(at / "partial.h5", s, m, info);
      for (const int k : {4, 1, 0, 3, 2}) partial.write_packed(packed.blocks[k].data(), packed.blocks[k].size());
      partial.finish(result.summary.finish(info.quantiles), result.event_count, 48, false);
    }
    H5::H5File a((at / "in_order.h5").string(), H5F_ACC_RDONLY);
    H5::H5File b((at / "reversed.h5").string(), H5F_ACC_RDONLY);
    H5::H5File p((at / "partial.h5").string(), H5F_ACC_RDONLY);
    for (const char* name : {"event_month", "era_alignment", "alignment", "run", "sample", "sample_run",
                             "alignment_mean", "alignment_quantile"}) {
      CAPTURE(name);
      CHECK(bytes_of(a, name) == bytes_of(b, name));
    }
    for (const char* name : {"event_month", "era_alignment", "run"}) {
      CAPTURE(name);
      const auto whole = bytes_of(a, name);
      const auto part = bytes_of(p, name);
      REQUIRE(part.size() == whole.size() * 48 / 100);
      CHECK(std::equal(part.begin(), part.end(), whole.begin()));
    }
    CHECK(bytes_of(p, "alignment") == bytes_of(a, "alignment"));  // the 20 stored runs are among the 48
    CHECK(u64_attr(p, "runs") == 48);
    CHECK(u64_attr(p, "stored_runs") == 20);
    CHECK(string_attr(p, "status") == "partial");
  }
  const std::vector<unsigned char> junk(40, 7);
  CHECK_THROWS_AS(BlockPacker::unpack(junk.data(), junk.size()), std::runtime_error);
}

namespace {

/// Opens `path` with the reader and returns its error (empty if it opened).
std::string reader_error(const fs::path& path) {
  try {
    const EnsembleReader reader(path);
    return "";
  } catch (const OutputError& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("the reader refuses a file whose attributes, names or shapes are not an ensemble's, naming the file") {
  const Scenario s = load_scenario(ALIGNSIM_TEST_DATA "/small.toml");
  const Model m(s);
  const auto dir = temp_dir();
  const auto good = dir / "good.h5";
  write(good, s, m, 30);
  {
    const EnsembleReader reader(good);
    const auto& h = reader.header();
    REQUIRE(h.runs == 30);
    std::vector<std::int16_t> months;
    std::vector<float> eras;
    reader.read(0, 30, months, eras);
    CHECK(months.size() == 30 * h.events.size());
    CHECK(eras.size() == 30 * h.eras.size() * h.agents.size() * h.agents.size());
    CHECK_THROWS_AS(reader.read(25, 6, months, eras), std::out_of_range);
  }
  const auto u64 = [](H5::H5File& f, const std::string& name, std::uint64_t v) {
    f.removeAttr(name);
    f.createAttribute(name, H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_UINT64, &v);
  };
  struct Damage {
    const char* what;
    const char* expected;  // in the message
    std::function<void(H5::H5File&)> apply;
  };
  const std::vector<Damage> damages = {
      {"runs written as text", "'runs' is not an integer",
       [](H5::H5File& f) {
         f.removeAttr("runs");
         H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
         const char* v = "30";
         f.createAttribute("runs", type, H5::DataSpace(H5S_SCALAR)).write(type, &v);
       }},
      {"more runs claimed than event_month holds", "event_month is not of runs x events",
       [&](H5::H5File& f) { u64(f, "runs", 31); }},
      {"2^40 runs claimed", "more than any run simulates", [&](H5::H5File& f) { u64(f, "runs", std::uint64_t{1} << 40); }},
      {"event_month of one dimension", "event_month is not of runs x events",
       [](H5::H5File& f) {
         f.unlink("event_month");
         const hsize_t n = 30 * 3;
         f.createDataSet("event_month", H5::PredType::NATIVE_INT16, H5::DataSpace(1, &n));
       }},
      {"agent names as numbers", "not a list of texts",
       [](H5::H5File& f) {
         f.unlink("agent");
         const hsize_t n = 3;
         f.createDataSet("agent", H5::PredType::NATIVE_INT32, H5::DataSpace(1, &n));
       }},
      {"a list of 2^30 event names, never written", "more than",
       [](H5::H5File& f) {
         f.unlink("event");
         const hsize_t n = hsize_t{1} << 30, chunk = 1;
         H5::DSetCreatPropList plist;
         plist.setChunk(1, &chunk);
         f.createDataSet("event", H5::StrType(H5::PredType::C_S1, H5T_VARIABLE), H5::DataSpace(1, &n), plist);
       }},
  };
  for (const auto& d : damages) {
    const std::string what = d.what;
    CAPTURE(what);
    const auto bad = dir / "bad.h5";
    fs::copy_file(good, bad, fs::copy_options::overwrite_existing);
    {
      H5::H5File f(bad.string(), H5F_ACC_RDWR);
      d.apply(f);
    }
    const auto error = reader_error(bad);
    CHECK(error.find(bad.string()) != std::string::npos);
    CHECK(error.find(d.expected) != std::string::npos);
  }
  fs::remove_all(dir);
}
