// HDF5 datasets of pixab's element types: the type mapping, chunked + compressed creation, row writes, whole reads.
#include "io/hdf5/dataset.hpp"

#include <algorithm>
#include <utility>

#include "io/error.hpp"

namespace pixab::hdf5 {
namespace {

// At most this many bytes per chunk (but at least one row): a chunk then fits HDF5's default 1 MiB chunk
// cache, so reading item by item decompresses each chunk once.
constexpr hsize_t kMaxChunkBytes = hsize_t{1} << 20;
constexpr unsigned kGzipLevel = 4;

// Chunks span whole rows of the first (item) dimension so that reading one item touches one chunk. An empty
// dataset keeps the default contiguous layout because HDF5 requires every chunk dimension to be positive.
Handle dataset_creation_properties(const Site& site, const std::vector<hsize_t>& dims, std::size_t element_bytes) {
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), site, "create dataset creation properties");
  const hsize_t elements = element_count(dims);
  if (elements == 0) return properties;

  std::vector<hsize_t> chunk = dims;
  const hsize_t row_bytes = elements / dims[0] * element_bytes;
  chunk[0] = std::clamp<hsize_t>(kMaxChunkBytes / row_bytes, 1, dims[0]);
  check(H5Pset_chunk(properties.id(), static_cast<int>(chunk.size()), chunk.data()), site, "set the chunk shape");
  if (check(H5Zfilter_avail(H5Z_FILTER_DEFLATE), site, "query the gzip filter") > 0) {
    check(H5Pset_shuffle(properties.id()), site, "enable the shuffle filter");
    check(H5Pset_deflate(properties.id(), kGzipLevel), site, "enable the gzip filter");
  }
  return properties;
}

// A stored type in the words of the schema ("float64", "int16", "string"), for errors about types pixab does
// not read.
std::string type_description(hid_t type, const Site& site) {
  const H5T_class_t type_class = check(H5Tget_class(type), site, "get the type class");
  const std::size_t bits = 8 * check(H5Tget_size(type), site, "get the element size");
  switch (type_class) {
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_INTEGER: {
      const bool is_signed = check(H5Tget_sign(type), site, "get the integer sign") == H5T_SGN_2;
      return (is_signed ? "int" : "uint") + std::to_string(bits);
    }
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    default:
      return "HDF5 type class " + std::to_string(static_cast<int>(type_class));
  }
}

// HDF5 allocates every variable-length string it reads; the reader frees them, also when copying them throws.
struct VariableLengthStrings {
  explicit VariableLengthStrings(std::size_t count) : pointers(count, nullptr) {}
  ~VariableLengthStrings() {
    for (char* pointer : pointers) H5free_memory(pointer);
  }
  VariableLengthStrings(const VariableLengthStrings&) = delete;
  VariableLengthStrings& operator=(const VariableLengthStrings&) = delete;

  std::vector<char*> pointers;
};

// HDF5 iteration callbacks are C code: collect the names, then do the throwing work outside.
herr_t collect_hard_link_name(hid_t /*group*/, const char* name, const H5L_info_t* info, void* names) noexcept {
  if (info->type != H5L_TYPE_HARD) return 0;
  try {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

}  // namespace

NumericTypes numeric_types(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return numeric_types<float>();
    case DType::kUInt8:
      return numeric_types<std::uint8_t>();
    case DType::kInt32:
      return numeric_types<std::int32_t>();
    case DType::kInt64:
      return numeric_types<std::int64_t>();
  }
  return numeric_types<float>();
}

Handle utf8_string_type(const Site& site) {
  Handle type(H5Tcopy(H5T_C_S1), site, "copy the string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), site, "make the string type variable-length");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), site, "set the string type to UTF-8");
  return type;
}

std::string absolute_object_path(const std::string& path) { return path.rfind('/', 0) == 0 ? path : "/" + path; }

hsize_t element_count(const std::vector<hsize_t>& dims) {
  hsize_t count = 1;
  for (const hsize_t dim : dims) count *= dim;
  return count;
}

// ---- Writing

Handle create_dataset(const Handle& file, const std::string& path, hid_t stored_type,
                      const std::vector<hsize_t>& dims) {
  const Site site{file.site().file, absolute_object_path(path)};
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), site, "create dataspace");
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), site, "create link creation properties");
  check(H5Pset_create_intermediate_group(link_properties.id(), 1), site, "allow creating intermediate groups");
  const std::size_t element_bytes = check(H5Tget_size(stored_type), site, "get the element size");
  const Handle creation_properties = dataset_creation_properties(site, dims, element_bytes);
  return Handle(H5Dcreate2(file.id(), path.c_str(), stored_type, space.id(), link_properties.id(),
                           creation_properties.id(), H5P_DEFAULT),
                site, "create dataset");
}

void write_rows(const Handle& dataset, hid_t memory_type, hsize_t first, hsize_t count, const void* values) {
  if (count == 0) return;  // HDF5 rejects empty selections and null buffers
  const Site& site = dataset.site();
  Handle file_space(H5Dget_space(dataset.id()), site, "get the dataspace");
  std::vector<hsize_t> dims(
      static_cast<std::size_t>(check(H5Sget_simple_extent_ndims(file_space.id()), site, "get the dataspace rank")));
  check(H5Sget_simple_extent_dims(file_space.id(), dims.data(), nullptr), site, "get the dataspace size");
  if (first + count > dims[0]) {
    throw IoError("rows " + std::to_string(first) + ".." + std::to_string(first + count) + " of '" + site.object +
                  "' are past its " + std::to_string(dims[0]) + " rows");
  }
  std::vector<hsize_t> start(dims.size(), 0), block = dims;
  start[0] = first;
  block[0] = count;
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr), site,
        "select rows");
  Handle memory_space(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), site,
                      "create the memory dataspace");
  check(H5Dwrite(dataset.id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, values), site,
        "write rows");
}

void write_string_rows(const Handle& dataset, hsize_t first, const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  pointers.reserve(strings.size());
  for (const std::string& text : strings) pointers.push_back(text.c_str());
  const Handle type = utf8_string_type(dataset.site());
  write_rows(dataset, type.id(), first, strings.size(), pointers.data());
}

// ---- Reading

Handle open_dataset(const Handle& file, const std::string& path) {
  return Handle(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), Site{file.site().file, absolute_object_path(path)},
                "open dataset");
}

std::vector<hsize_t> dataset_dims(const Handle& dataset) {
  const Handle space(H5Dget_space(dataset.id()), dataset.site(), "get the dataspace");
  const int rank = check(H5Sget_simple_extent_ndims(space.id()), space.site(), "get the rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), space.site(), "get the shape");
  return dims;
}

DType dataset_dtype(const Handle& dataset) {
  const Site& site = dataset.site();
  const Handle type(H5Dget_type(dataset.id()), site, "get the datatype");
  const H5T_class_t type_class = check(H5Tget_class(type.id()), site, "get the type class");
  const std::size_t size = check(H5Tget_size(type.id()), site, "get the element size");
  if (type_class == H5T_FLOAT && size == sizeof(float)) return DType::kFloat32;
  if (type_class == H5T_INTEGER) {
    const bool is_signed = check(H5Tget_sign(type.id()), site, "get the integer sign") == H5T_SGN_2;
    if (!is_signed && size == 1) return DType::kUInt8;
    if (is_signed && size == 4) return DType::kInt32;
    if (is_signed && size == 8) return DType::kInt64;
  }
  throw IoError("dataset '" + site.object + "' in '" + site.file + "' has element type " +
                type_description(type.id(), site) + "; results arrays hold float32, uint8, int32 or int64");
}

TypedArray read_typed_dataset(const Handle& dataset) {
  const DType dtype = dataset_dtype(dataset);
  const std::vector<hsize_t> dims = dataset_dims(dataset);
  TypedArray array = TypedArray::filled(dtype, std::vector<std::uint64_t>(dims.begin(), dims.end()), 0);
  if (array.element_count() > 0) {  // HDF5 rejects the null buffer of an empty vector
    check(H5Dread(dataset.id(), numeric_types(dtype).memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.data()),
          dataset.site(), "read dataset");
  }
  return array;
}

std::vector<std::string> read_strings(hid_t stored_type, const Site& site, std::size_t count,
                                      const std::function<herr_t(hid_t, void*)>& read) {
  std::vector<std::string> strings;
  if (count == 0) return strings;
  strings.reserve(count);
  if (check(H5Tis_variable_str(stored_type), site, "inspect the string type") > 0) {
    Handle memory_type(H5Tcopy(H5T_C_S1), site, "copy the string type");
    check(H5Tset_size(memory_type.id(), H5T_VARIABLE), site, "make the string type variable-length");
    // HDF5 does not convert between character sets, so the memory type takes the stored one.
    check(H5Tset_cset(memory_type.id(), check(H5Tget_cset(stored_type), site, "get the character set")), site,
          "set the character set");
    VariableLengthStrings buffer(count);
    check(read(memory_type.id(), buffer.pointers.data()), site, "read strings");
    for (const char* pointer : buffer.pointers) strings.emplace_back(pointer ? pointer : "");
    return strings;
  }
  const std::size_t size = check(H5Tget_size(stored_type), site, "get the string size");
  const bool space_padded = check(H5Tget_strpad(stored_type), site, "get the string padding") == H5T_STR_SPACEPAD;
  Handle memory_type(H5Tcopy(stored_type), site, "copy the string type");
  std::vector<char> buffer(count * size);
  check(read(memory_type.id(), buffer.data()), site, "read strings");
  for (std::size_t i = 0; i < count; ++i) {
    std::string text(&buffer[i * size], size);
    text.resize(std::min(text.find('\0'), text.size()));
    if (space_padded) text.resize(text.find_last_not_of(' ') + 1);
    strings.push_back(std::move(text));
  }
  return strings;
}

std::vector<std::string> read_string_dataset(const Handle& dataset, std::size_t count) {
  const Handle type(H5Dget_type(dataset.id()), dataset.site(), "get the datatype");
  return read_strings(type.id(), dataset.site(), count, [&](hid_t memory_type, void* buffer) {
    return H5Dread(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  });
}

std::vector<std::string> child_link_names(const Handle& group) {
  std::vector<std::string> names;
  check(H5Literate(group.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_hard_link_name, &names), group.site(),
        "list the group's members");
  return names;
}

}  // namespace pixab::hdf5
