// libFuzzer target: the output reader (io/EnsembleReader, what `compare` opens) on hostile files.
// The first byte chooses how the input becomes a file:
//   0: the rest is the file, byte for byte (seeds: real outputs; libFuzzer cuts and flips them);
//   1: the rest describes a well-formed HDF5 file with alignsim's names but any content: attributes
//      of any type or value, string lists of any length, event_month and era_alignment of any
//      shape and type. HDF5's own parser is not instrumented, so this is how the fuzzer reaches the
//      reader's logic (types, shapes, sizes).
// The reader must return a header and runs, or throw OutputError: any other exception, a crash, a
// sanitizer report, or memory or time beyond libFuzzer's limits is a bug.
#include <H5Cpp.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/EnsembleReader.hpp"
#include "io/OutputPath.hpp"

namespace {

// The file each input is written to: ALIGNSIM_FUZZ_FILE when set (tests/fuzz/run sets it, so that
// no process id reaches the reader and a seeded run is the same every time), else one per process
// in the temporary folder.
const std::filesystem::path& file() {
  static const auto path = [] {
    if (const char* given = std::getenv("ALIGNSIM_FUZZ_FILE"); given != nullptr && *given != '\0') {
      return std::filesystem::path(given);
    }
    return std::filesystem::temp_directory_path() / ("alignsim_fuzz_reader_" + std::to_string(::getpid()) + ".h5");
  }();
  return path;
}

std::string text(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return "alignsim-ensemble";
    case 1: return "complete";
    case 2: return "partial";
    default: return in.ConsumeRandomLengthString(40);
  }
}

void string_attribute(H5::H5File& f, const std::string& name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  const char* p = value.c_str();
  f.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, &p);
}

/// An attribute that is a string, an unsigned or signed integer, a float, an array, or absent.
void attribute(H5::H5File& f, const std::string& name, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: return;
    case 1: string_attribute(f, name, text(in)); return;
    case 2: {
      const auto v = in.ConsumeIntegral<std::uint64_t>() >> in.ConsumeIntegralInRange(0, 63);
      f.createAttribute(name, H5::PredType::NATIVE_UINT64, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_UINT64, &v);
      return;
    }
    case 3: {
      const auto v = in.ConsumeFloatingPoint<double>();
      f.createAttribute(name, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_DOUBLE, &v);
      return;
    }
    default: {
      const hsize_t n = in.ConsumeIntegralInRange<hsize_t>(0, 4);
      std::vector<std::int32_t> v(n, in.ConsumeIntegral<std::int32_t>());
      auto a = f.createAttribute(name, H5::PredType::NATIVE_INT32, H5::DataSpace(1, &n));
      if (n) a.write(H5::PredType::NATIVE_INT32, v.data());
    }
  }
}

/// A list of names (variable-length strings), or an integer list, or nothing.
void names(H5::H5File& f, const std::string& name, FuzzedDataProvider& in) {
  const int kind = in.ConsumeIntegralInRange(0, 3);
  if (kind == 0) return;
  const hsize_t n = in.ConsumeIntegralInRange<hsize_t>(0, kind == 3 ? 3 : 40);
  if (kind == 3) {
    std::vector<std::int32_t> v(n, 1);
    auto ds = f.createDataSet(name, H5::PredType::NATIVE_INT32, H5::DataSpace(1, &n));
    if (n) ds.write(v.data(), H5::PredType::NATIVE_INT32);
    return;
  }
  std::vector<std::string> values;
  for (hsize_t k = 0; k < n; ++k) values.push_back(in.ConsumeRandomLengthString(12));
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  auto ds = f.createDataSet(name, type, H5::DataSpace(1, &n));
  if (n) ds.write(p.data(), type);
}

/// A numeric dataset of 1 to 4 dimensions of any small extent, or a large chunked one with no data
/// written (its extent is free: the file stays small).
void table(H5::H5File& f, const std::string& name, FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) return;
  const int rank = in.ConsumeIntegralInRange(1, 4);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  const bool sparse = in.ConsumeBool();
  hsize_t cells = 1;
  for (auto& d : dims) {
    d = sparse ? in.ConsumeIntegralInRange<hsize_t>(0, 1u << 24) : in.ConsumeIntegralInRange<hsize_t>(0, 24);
    cells *= d;
  }
  const H5::PredType& type = in.ConsumeBool() ? H5::PredType::NATIVE_INT16 : H5::PredType::NATIVE_FLOAT;
  H5::DSetCreatPropList plist;
  if (sparse) {
    std::vector<hsize_t> chunk(dims.size(), 1);
    plist.setChunk(rank, chunk.data());
  }
  auto ds = f.createDataSet(name, type, H5::DataSpace(rank, dims.data()), plist);
  if (!sparse && cells > 0) {
    std::vector<float> v(cells);
    for (auto& x : v) x = static_cast<float>(in.ConsumeIntegralInRange(-3, 3));
    ds.write(v.data(), H5::PredType::NATIVE_FLOAT);
  }
}

bool build(FuzzedDataProvider& in) {
  try {
    H5::H5File f(file().string(), H5F_ACC_TRUNC);
    for (const char* key : {"format", "title", "status", "seed", "runs", "scenario_sha256"}) attribute(f, key, in);
    names(f, "agent", in);
    names(f, "event", in);
    names(f, "era", in);
    table(f, "event_month", in);
    table(f, "era_alignment", in);
    f.close();
    return true;
  } catch (const H5::Exception&) {
    return false;  // a description HDF5 cannot write (two attributes of one name): not an input
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5::Exception::dontPrint();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;
  FuzzedDataProvider in(data + 1, size - 1);
  if (data[0] == 0) {
    std::ofstream(file(), std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data + 1),
                                                                       static_cast<std::streamsize>(size - 1));
  } else if (data[0] != 1 || !build(in)) {
    return -1;
  }
  try {
    const alignsim::EnsembleReader reader(file());
    const auto& h = reader.header();
    std::vector<std::int16_t> months;
    std::vector<float> eras;
    // What compare does with the first block of runs (at most as many as the fuzzer's budget allows).
    const std::uint64_t count = std::min<std::uint64_t>(h.runs, 4096);
    reader.read(0, count, months, eras);
    if (months.size() != count * h.events.size()) std::abort();
    if (eras.size() != count * h.eras.size() * h.agents.size() * h.agents.size()) std::abort();
  } catch (const alignsim::OutputError&) {
  }
  return 0;
}
