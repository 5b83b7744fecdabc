#include "H5Read.hpp"

#include <algorithm>

namespace alignsim::detail {

std::vector<hsize_t> dims_of(const H5::DataSpace& space) {
  const int rank = space.getSimpleExtentNdims();
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) space.getSimpleExtentDims(dims.data());
  return dims;
}

namespace {

H5::Attribute scalar(const H5::H5Object& object, const std::string& name, H5T_class_t kind, const char* what) {
  auto a = object.openAttribute(name);
  if (a.getSpace().getSimpleExtentType() != H5S_SCALAR || a.getTypeClass() != kind) {
    throw H5::AttributeIException("attribute", "attribute '" + name + "' is not " + what);
  }
  return a;
}

}  // namespace

std::string string_attribute(const H5::H5Object& object, const std::string& name) {
  const auto a = scalar(object, name, H5T_STRING, "a text");
  std::string value;
  a.read(a.getStrType(), value);
  return value;
}

std::uint64_t unsigned_attribute(const H5::H5Object& object, const std::string& name) {
  const auto a = scalar(object, name, H5T_INTEGER, "an integer");
  if (a.getIntType().getSign() == H5T_SGN_2) {
    std::int64_t v = 0;
    a.read(H5::PredType::NATIVE_INT64, &v);
    if (v < 0) throw H5::AttributeIException("attribute", "attribute '" + name + "' is negative");
    return static_cast<std::uint64_t>(v);
  }
  std::uint64_t v = 0;
  a.read(H5::PredType::NATIVE_UINT64, &v);
  return v;
}

std::vector<std::string> string_list(const H5::DataSet& ds, hsize_t max_count) {
  const auto space = ds.getSpace();
  const auto dims = dims_of(space);
  if (dims.size() != 1 || ds.getTypeClass() != H5T_STRING || !ds.getStrType().isVariableStr()) {
    throw H5::DataSetIException("string_list", "a dataset that is not a list of texts");
  }
  const hsize_t n = dims[0];
  if (n > max_count) {
    throw H5::DataSetIException("string_list", "a list of " + std::to_string(n) + " names, more than " +
                                                   std::to_string(max_count));
  }
  std::vector<char*> raw(n, nullptr);
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  if (n > 0) ds.read(raw.data(), type);
  std::vector<std::string> out;
  for (auto* p : raw) out.emplace_back(p ? p : "");
  if (n > 0) H5Dvlen_reclaim(type.getId(), space.getId(), H5P_DEFAULT, raw.data());
  return out;
}

}  // namespace alignsim::detail
