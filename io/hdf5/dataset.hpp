// HDF5 datasets of pixab's element types: the type mapping, chunked + compressed creation, row writes, whole reads.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "io/hdf5/handle.hpp"
#include "io/typed_array.hpp"

namespace pixab::hdf5 {

// The HDF5 types of one element type: native in memory, fixed little-endian in the file.
struct NumericTypes {
  hid_t memory;
  hid_t stored;
};

// The results arrays' element types (DType) and the item table's own (int8 status, uint32 flags).
template <typename T>
NumericTypes numeric_types() {
  if constexpr (std::is_same_v<T, std::int8_t>) {
    return {H5T_NATIVE_INT8, H5T_STD_I8LE};
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    return {H5T_NATIVE_UINT8, H5T_STD_U8LE};
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return {H5T_NATIVE_INT32, H5T_STD_I32LE};
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    return {H5T_NATIVE_UINT32, H5T_STD_U32LE};
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return {H5T_NATIVE_INT64, H5T_STD_I64LE};
  } else {
    static_assert(std::is_same_v<T, float>, "no HDF5 type for this element type");
    return {H5T_NATIVE_FLOAT, H5T_IEEE_F32LE};
  }
}

NumericTypes numeric_types(DType dtype);

// The variable-length UTF-8 string type pixab writes: h5py reads such strings as `str`.
Handle utf8_string_type(const Site& site);

// "/" + path unless it already starts with "/": the object path errors name.
std::string absolute_object_path(const std::string& path);

// The product of the dimensions (1 for a scalar).
hsize_t element_count(const std::vector<hsize_t>& dims);

// ---- Writing

// Creates the dataset `path` (groups on the way as needed) at its full size `dims`, chunked along the first
// (item) dimension with shuffle + gzip; an empty one stays contiguous.
Handle create_dataset(const Handle& file, const std::string& path, hid_t stored_type,
                      const std::vector<hsize_t>& dims);

// Writes rows [first, first + count) of a dataset whose first dimension is the item, from `values` of
// `memory_type`; IoError when the rows are past its end.
void write_rows(const Handle& dataset, hid_t memory_type, hsize_t first, hsize_t count, const void* values);

template <typename T>
void write_numeric_rows(const Handle& dataset, hsize_t first, const std::vector<T>& values, hsize_t count) {
  write_rows(dataset, numeric_types<T>().memory, first, count, values.data());
}

void write_string_rows(const Handle& dataset, hsize_t first, const std::vector<std::string>& strings);

// ---- Reading

Handle open_dataset(const Handle& file, const std::string& path);

std::vector<hsize_t> dataset_dims(const Handle& dataset);

// The dataset's element type as a DType, read from its metadata alone; IoError naming the file, the dataset and
// its type (e.g. "float64", "string") when it is none of float32, uint8, int32, int64.
DType dataset_dtype(const Handle& dataset);

// The whole dataset, converted to T by HDF5 where the stored type differs.
template <typename T>
std::vector<T> read_numeric_dataset(const Handle& dataset, hsize_t element_count);

// The whole dataset in its own element type (dataset_dtype), with its shape.
TypedArray read_typed_dataset(const Handle& dataset);

// `count` strings, variable-length (what pixab writes) or fixed-length (which the schema also allows).
std::vector<std::string> read_string_dataset(const Handle& dataset, std::size_t count);

// `count` strings of `stored_type` read through `read(memory_type, buffer)` (H5Dread or H5Aread), variable- or
// fixed-length.
std::vector<std::string> read_strings(hid_t stored_type, const Site& site, std::size_t count,
                                      const std::function<herr_t(hid_t, void*)>& read);

// The names of the group's hard links, by name: soft and external links would read an object twice or from
// another file.
std::vector<std::string> child_link_names(const Handle& group);

// ---- Template definitions

template <typename T>
std::vector<T> read_numeric_dataset(const Handle& dataset, hsize_t element_count) {
  std::vector<T> values(element_count);
  if (element_count > 0) {  // HDF5 rejects the null buffer of an empty vector
    check(H5Dread(dataset.id(), numeric_types<T>().memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          dataset.site(), "read dataset");
  }
  return values;
}

}  // namespace pixab::hdf5
