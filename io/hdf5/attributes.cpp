// Scalar attributes of an HDF5 object: UTF-8 text and int64, the provenance of a results file's root group.
#include "io/hdf5/attributes.hpp"

#include <vector>

#include "io/hdf5/dataset.hpp"

namespace pixab::hdf5 {
namespace {

void write_scalar_attribute(const Handle& object, const std::string& name, hid_t stored_type, hid_t memory_type,
                            const void* value) {
  const Site& site = object.site();
  Handle space(H5Screate(H5S_SCALAR), site, "create a scalar dataspace for attribute '" + name + "'");
  Handle attribute(H5Acreate2(object.id(), name.c_str(), stored_type, space.id(), H5P_DEFAULT, H5P_DEFAULT), site,
                   "create attribute '" + name + "'");
  check(H5Awrite(attribute.id(), memory_type, value), site, "write attribute '" + name + "'");
  attribute.close();
}

// HDF5 iteration callbacks are C code: collect the names, then do the throwing work outside.
herr_t collect_attribute_name(hid_t /*object*/, const char* name, const H5A_info_t* /*info*/, void* names) noexcept {
  try {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> attribute_names(const Handle& object) {
  std::vector<std::string> names;
  check(H5Aiterate2(object.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute_name, &names),
        object.site(), "list attributes");
  return names;
}

}  // namespace

void write_text_attribute(const Handle& object, const std::string& name, const std::string& text) {
  const Handle string_type = utf8_string_type(object.site());
  const char* pointer = text.c_str();
  write_scalar_attribute(object, name, string_type.id(), string_type.id(), &pointer);
}

void write_int_attribute(const Handle& object, const std::string& name, std::int64_t value) {
  write_scalar_attribute(object, name, numeric_types<std::int64_t>().stored, numeric_types<std::int64_t>().memory,
                         &value);
}

void read_scalar_attributes(const Handle& object, std::map<std::string, std::string>& text,
                            std::map<std::string, std::int64_t>& integers) {
  const Site& site = object.site();
  for (const std::string& name : attribute_names(object)) {
    const std::string action_suffix = " of attribute '" + name + "'";
    const Handle attribute(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), site, "open attribute '" + name + "'");
    const Handle space(H5Aget_space(attribute.id()), site, "get the dataspace" + action_suffix);
    if (check(H5Sget_simple_extent_npoints(space.id()), site, "count the elements" + action_suffix) != 1) continue;
    const Handle type(H5Aget_type(attribute.id()), site, "get the datatype" + action_suffix);
    const H5T_class_t type_class = check(H5Tget_class(type.id()), site, "get the type class" + action_suffix);
    if (type_class == H5T_STRING) {
      text[name] = read_strings(type.id(), site, 1, [&](hid_t memory_type, void* buffer) {
                     return H5Aread(attribute.id(), memory_type, buffer);
                   }).front();
    } else if (type_class == H5T_INTEGER) {
      std::int64_t value = 0;
      check(H5Aread(attribute.id(), numeric_types<std::int64_t>().memory, &value), site, "read" + action_suffix);
      integers[name] = value;
    }
  }
}

}  // namespace pixab::hdf5
