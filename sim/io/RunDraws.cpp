#include "RunDraws.hpp"

#include <H5Cpp.h>
#include <hdf5_hl.h>

#include "OutputWriter.hpp"

namespace alignsim {

struct RunDrawReader::Impl {
  std::string path, posterior, sha256;
  std::uint64_t draws = 0;
  H5::H5File file;
  H5::DataSet run_draw;
  bool present = false;
};

namespace {

std::string string_attribute(const H5::H5File& f, const std::string& name) {
  const auto a = f.openAttribute(name);
  std::string value;
  a.read(a.getStrType(), value);
  return value;
}

}  // namespace

RunDrawReader::RunDrawReader(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  H5::Exception::dontPrint();
  impl_->path = path.string();
  try {
    impl_->file = H5::H5File(impl_->path, H5F_ACC_RDONLY);
    const auto& f = impl_->file;
    impl_->present = f.nameExists("run_draw");
    if (!impl_->present) return;
    impl_->run_draw = f.openDataSet("run_draw");
    impl_->posterior = string_attribute(f, "posterior");
    impl_->sha256 = string_attribute(f, "posterior_sha256");
    f.openAttribute("posterior_draws").read(H5::PredType::NATIVE_UINT64, &impl_->draws);
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read the posterior draws of '" + impl_->path + "': " + e.getDetailMsg());
  }
}

RunDrawReader::~RunDrawReader() = default;

bool RunDrawReader::present() const { return impl_->present; }
const std::string& RunDrawReader::posterior() const { return impl_->posterior; }
const std::string& RunDrawReader::sha256() const { return impl_->sha256; }
std::uint64_t RunDrawReader::draws() const { return impl_->draws; }

void RunDrawReader::read(std::uint64_t first, std::uint64_t count, std::vector<std::int32_t>& out) const {
  out.resize(count);
  if (count == 0) return;
  try {
    const hsize_t start[1] = {first}, size[1] = {count};
    auto space = impl_->run_draw.getSpace();
    space.selectHyperslab(H5S_SELECT_SET, size, start);
    H5::DataSpace memory(1, size);
    impl_->run_draw.read(out.data(), H5::PredType::NATIVE_INT32, memory, space);
  } catch (const H5::Exception& e) {
    throw OutputError("cannot read run_draw of runs " + std::to_string(first) + " to " + std::to_string(first + count - 1) +
                      " of '" + impl_->path + "': " + e.getDetailMsg());
  }
}

}  // namespace alignsim
