#include "H5Create.hpp"

namespace alignsim::detail {

namespace {

void no_times(const H5::PropList& plist) {
  if (H5Pset_obj_track_times(plist.getId(), false) < 0) {
    throw H5::PropListIException("H5Pset_obj_track_times", "cannot turn off object times");
  }
}

}  // namespace

H5::DSetCreatPropList untimed_dataset_plist() {
  H5::DSetCreatPropList plist;
  no_times(plist);
  return plist;
}

H5::FileCreatPropList untimed_file_plist() {
  H5::FileCreatPropList fcpl;
  // netCDF-4 readers expect link and attribute creation order to be tracked.
  H5Pset_link_creation_order(fcpl.getId(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_attr_creation_order(fcpl.getId(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  no_times(fcpl);
  return fcpl;
}

H5::Group create_untimed_group(const H5::Group& at, const std::string& name) {
  const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  if (gcpl < 0) throw H5::GroupIException("H5Pcreate", "cannot make a group creation property list");
  H5Pset_obj_track_times(gcpl, false);
  const hid_t id = H5Gcreate2(at.getId(), name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  if (id < 0) throw H5::GroupIException("H5Gcreate2", "cannot create the group '" + name + "'");
  // H5::Group(id) takes a reference of its own: the one H5Gcreate2 gave is handed back, or the
  // group would stay open after the object is gone and keep the file from closing.
  H5::Group group(id);
  H5Idec_ref(id);
  return group;
}

}  // namespace alignsim::detail
