#pragma once
/// Reading what an HDF5 file may hold wrongly (a damaged or foreign file): the shape and type of an
/// attribute or dataset are checked before it is read into memory of a fixed size, and a mismatch
/// is an H5::Exception that names it. Internal to sim/io, the only module that includes H5Cpp.h.

#include <H5Cpp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace alignsim::detail {

/// The extent of a simple dataspace (empty for a scalar).
std::vector<hsize_t> dims_of(const H5::DataSpace& space);

/// A scalar string attribute.
std::string string_attribute(const H5::H5Object& object, const std::string& name);

/// A scalar integer attribute, converted to 64 bits (a negative one is an error).
std::uint64_t unsigned_attribute(const H5::H5Object& object, const std::string& name);

/// The values of a one-dimensional dataset of strings, of at most `max_count` (a file may claim
/// any length: the limit keeps memory bounded).
std::vector<std::string> string_list(const H5::DataSet& ds, hsize_t max_count = hsize_t{1} << 20);

/// Every value of a numeric dataset of `rank` dimensions, converted to `type` (T's own), of at most
/// `max_count` values (a file may claim any extent: the limit keeps memory bounded).
template <class T>
std::vector<T> all_values(const H5::DataSet& ds, int rank, const H5::PredType& type,
                          std::size_t max_count = std::size_t{1} << 26) {
  const auto dims = dims_of(ds.getSpace());
  if (static_cast<int>(dims.size()) != rank || ds.getTypeClass() == H5T_STRING) {
    throw H5::DataSetIException("all_values", "a dataset of " + std::to_string(dims.size()) + " dimensions or of text, "
                                "expected numbers in " + std::to_string(rank));
  }
  std::size_t n = 1;
  for (const auto d : dims) n = (n == 0 || d == 0) ? 0 : (d > max_count / n ? max_count + 1 : n * d);  // no overflow
  if (n > max_count) {
    throw H5::DataSetIException("all_values", "a dataset of more than " + std::to_string(max_count) + " values");
  }
  std::vector<T> out(n);
  if (n > 0) ds.read(out.data(), type);
  return out;
}

}  // namespace alignsim::detail
