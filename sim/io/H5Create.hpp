#pragma once
/// Creating HDF5 objects reproducibly: HDF5 stamps every object with its creation and modification
/// times unless told not to, so two runs of the same command would give files whose bytes differ.
/// Every file, group and dataset alignsim writes is made through these, with the times left out.
/// Internal to sim/io, the only module that includes H5Cpp.h.

#include <H5Cpp.h>

#include <string>

namespace alignsim::detail {

/// A dataset creation property list without object times; set chunking and filters on it as usual.
H5::DSetCreatPropList untimed_dataset_plist();

/// A file creation property list for netCDF-4 (link and attribute creation order tracked and
/// indexed) whose root group carries no times.
H5::FileCreatPropList untimed_file_plist();

/// A new group `name` under `at`, without object times.
H5::Group create_untimed_group(const H5::Group& at, const std::string& name);

}  // namespace alignsim::detail
