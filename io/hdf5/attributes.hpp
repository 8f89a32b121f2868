// Scalar attributes of an HDF5 object: UTF-8 text and int64, the provenance of a results file's root group.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "io/hdf5/handle.hpp"

namespace pixab::hdf5 {

// A variable-length UTF-8 string attribute (h5py reads it as `str`).
void write_text_attribute(const Handle& object, const std::string& name, const std::string& text);

// An int64 attribute (h5py reads it as a Python int).
void write_int_attribute(const Handle& object, const std::string& name, std::int64_t value);

// Every scalar attribute of `object`: strings into `text`, integers into `integers` (as int64). Attributes of
// other types or with more than one element are skipped: they are not part of pixab's provenance.
void read_scalar_attributes(const Handle& object, std::map<std::string, std::string>& text,
                            std::map<std::string, std::int64_t>& integers);

}  // namespace pixab::hdf5
