// Writes and reads the HDF5 results file of docs/results-schema.md; a write is atomic (temp file, rename).
#include "io/results_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <type_traits>
#include <utility>

#include "io/error.hpp"
#include "io/file_contents.hpp"
#include "io/hdf5_check.hpp"

namespace pixab {

const char* item_status_name(ItemStatus status) {
  switch (status) {
    case ItemStatus::kOk:
      return "ok";
    case ItemStatus::kMissing:
      return "missing";
    case ItemStatus::kUnreadable:
      return "unreadable";
    case ItemStatus::kTruncated:
      return "truncated";
    case ItemStatus::kTooLarge:
      return "too_large";
    case ItemStatus::kBadAnnotation:
      return "bad_annotation";
    case ItemStatus::kAttackFailed:
      return "attack_failed";
    case ItemStatus::kModelError:
      return "model_error";
  }
  return "unknown";
}

namespace {

using hdf5::check;
using hdf5::Handle;
using hdf5::Site;

// At most this many bytes per chunk (but at least one row): a chunk then fits HDF5's default 1 MiB chunk
// cache, so reading item by item decompresses each chunk once.
constexpr hsize_t kMaxChunkBytes = hsize_t{1} << 20;
constexpr unsigned kGzipLevel = 4;
constexpr const char* kItemsGroup = "items";
constexpr const char* kSchemaVersionAttribute = "schema_version";

// ---- Types

// The HDF5 types of one element type: native in memory, fixed little-endian in the file.
struct NumericTypes {
  hid_t memory;
  hid_t stored;
};

template <typename T>
NumericTypes numeric_types() {
  if constexpr (std::is_same_v<T, std::int8_t>) {
    return {H5T_NATIVE_INT8, H5T_STD_I8LE};
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

// h5py reads variable-length strings as `str` only when their character set says UTF-8.
Handle utf8_string_type(const Site& site) {
  Handle type(H5Tcopy(H5T_C_S1), site, "copy the string type");
  check(H5Tset_size(type.id(), H5T_VARIABLE), site, "make the string type variable-length");
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), site, "set the string type to UTF-8");
  return type;
}

// ---- Item table columns, shared by writer and reader

template <typename Member>
struct ItemColumn {
  const char* name;  // dataset name under /items
  Member ItemRecord::*member;
};

constexpr ItemColumn<std::string> kStringColumns[] = {
    {"id", &ItemRecord::id}, {"source", &ItemRecord::source}, {"message", &ItemRecord::message}};
constexpr ItemColumn<ItemStatus> kStatusColumn = {"status", &ItemRecord::status};
constexpr ItemColumn<std::uint32_t> kFlagsColumn = {"flags", &ItemRecord::flags};
constexpr ItemColumn<std::int32_t> kInt32Columns[] = {{"width", &ItemRecord::width},
                                                      {"height", &ItemRecord::height},
                                                      {"target", &ItemRecord::target},
                                                      {"top1", &ItemRecord::top1}};
constexpr ItemColumn<float> kFloatColumns[] = {{"target_prob", &ItemRecord::target_prob},
                                               {"top1_prob", &ItemRecord::top1_prob}};
constexpr const char* kBoxesDataset = "boxes";
constexpr const char* kBoxCountDataset = "box_count";
constexpr hsize_t kBoxCoordinates = 4;  // x1, y1, x2, y2

std::string items_path(const std::string& name) { return std::string(kItemsGroup) + "/" + name; }

std::string absolute_object_path(const std::string& path) {
  return path.rfind('/', 0) == 0 ? path : "/" + path;
}

hsize_t element_count(const std::vector<hsize_t>& dims) {
  hsize_t count = 1;
  for (const hsize_t dim : dims) count *= dim;
  return count;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

// ---- Writing

// Chunks span whole rows of the first (item) dimension so that reading one item touches one chunk. An empty
// dataset keeps the default contiguous layout because HDF5 requires every chunk dimension to be positive.
Handle dataset_creation_properties(const Site& site, const std::vector<hsize_t>& dims,
                                   std::size_t element_bytes) {
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), site, "create dataset creation properties");
  const hsize_t elements = element_count(dims);
  if (elements == 0) return properties;

  std::vector<hsize_t> chunk = dims;
  const hsize_t row_bytes = elements / dims[0] * element_bytes;
  chunk[0] = std::clamp<hsize_t>(kMaxChunkBytes / row_bytes, 1, dims[0]);
  check(H5Pset_chunk(properties.id(), static_cast<int>(chunk.size()), chunk.data()), site,
        "set the chunk shape");
  if (check(H5Zfilter_avail(H5Z_FILTER_DEFLATE), site, "query the gzip filter") > 0) {
    check(H5Pset_shuffle(properties.id()), site, "enable the shuffle filter");
    check(H5Pset_deflate(properties.id(), kGzipLevel), site, "enable the gzip filter");
  }
  return properties;
}

// The one place a dataset is created, at its full size; groups on the way to `path` are created as needed.
Handle create_dataset(const Handle& file, const std::string& path, hid_t stored_type,
                      const std::vector<hsize_t>& dims) {
  const Site site{file.site().file, absolute_object_path(path)};
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), site,
               "create dataspace");
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), site, "create link creation properties");
  check(H5Pset_create_intermediate_group(link_properties.id(), 1), site,
        "allow creating intermediate groups");
  const std::size_t element_bytes = check(H5Tget_size(stored_type), site, "get the element size");
  const Handle creation_properties = dataset_creation_properties(site, dims, element_bytes);
  return Handle(H5Dcreate2(file.id(), path.c_str(), stored_type, space.id(), link_properties.id(),
                           creation_properties.id(), H5P_DEFAULT),
                site, "create dataset");
}

// The one place rows are written: rows [first, first + count) of a dataset whose first dimension is the item.
void write_rows(const Handle& dataset, hid_t memory_type, hsize_t first, hsize_t count, const void* values) {
  if (count == 0) return;  // HDF5 rejects empty selections and null buffers
  const Site& site = dataset.site();
  Handle file_space(H5Dget_space(dataset.id()), site, "get the dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(
      check(H5Sget_simple_extent_ndims(file_space.id()), site, "get the dataspace rank")));
  check(H5Sget_simple_extent_dims(file_space.id(), dims.data(), nullptr), site, "get the dataspace size");
  if (first + count > dims[0]) {
    throw IoError("rows " + std::to_string(first) + ".." + std::to_string(first + count) + " of '" +
                  site.object + "' are past its " + std::to_string(dims[0]) + " rows");
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

template <typename T>
void write_numeric_rows(const Handle& dataset, hsize_t first, const std::vector<T>& values, hsize_t count) {
  write_rows(dataset, numeric_types<T>().memory, first, count, values.data());
}

void write_string_rows(const Handle& dataset, hsize_t first, const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  pointers.reserve(strings.size());
  for (const std::string& text : strings) pointers.push_back(text.c_str());
  const Handle type = utf8_string_type(dataset.site());
  write_rows(dataset, type.id(), first, strings.size(), pointers.data());
}

// `Stored` is the file's element type where it differs from the member's (the status enum is stored as int8).
template <typename Stored, typename Member>
std::vector<Stored> item_column(const std::vector<ItemRecord>& items, Member ItemRecord::*member) {
  std::vector<Stored> values;
  values.reserve(items.size());
  for (const ItemRecord& item : items) values.push_back(static_cast<Stored>(item.*member));
  return values;
}

// Items have different numbers of boxes; a rectangular [N, B, 4] array padded with NaN plus a count per item
// reads in every analysis tool, where a variable-length type would not.
std::vector<float> box_rows(const std::vector<ItemRecord>& items, std::size_t capacity) {
  std::vector<float> coordinates(items.size() * capacity * kBoxCoordinates,
                                 std::numeric_limits<float>::quiet_NaN());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::vector<Box>& boxes = items[i].boxes;
    for (std::size_t b = 0; b < boxes.size(); ++b) {
      float* row = &coordinates[(i * capacity + b) * kBoxCoordinates];
      row[0] = boxes[b].x1;
      row[1] = boxes[b].y1;
      row[2] = boxes[b].x2;
      row[3] = boxes[b].y2;
    }
  }
  return coordinates;
}

// Caught before the file is created, so that a caller's mistake does not look like a disk problem.
std::vector<hsize_t> checked_array_dims(const std::string& path, const FloatArray& array) {
  const std::string absolute = absolute_object_path(path);
  const std::string items_group = absolute_object_path(kItemsGroup);
  if (absolute == "/" || absolute == items_group || absolute.rfind(items_group + "/", 0) == 0) {
    throw IoError("array path '" + path + "' is empty or inside /items, which holds the item table");
  }
  if (array.shape.empty()) throw IoError("array '" + path + "' has no shape");
  const std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
  if (element_count(dims) != array.values.size()) {
    throw IoError("array '" + path + "' has shape " + shape_text(dims) + " (" +
                  std::to_string(element_count(dims)) + " values) but holds " +
                  std::to_string(array.values.size()) + " values");
  }
  return dims;
}

// Scalar attributes: h5py reads a variable-length UTF-8 one as `str` and an int64 one as a Python int.
void write_scalar_attribute(const Handle& root, const std::string& name, hid_t stored_type, hid_t memory_type,
                            const void* value) {
  const Site& site = root.site();
  Handle space(H5Screate(H5S_SCALAR), site, "create a scalar dataspace for attribute '" + name + "'");
  Handle attribute(H5Acreate2(root.id(), name.c_str(), stored_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                   site, "create attribute '" + name + "'");
  check(H5Awrite(attribute.id(), memory_type, value), site, "write attribute '" + name + "'");
  attribute.close();
}

void write_root_attributes(const Handle& root, const std::map<std::string, std::string>& text_attributes,
                           const std::map<std::string, std::int64_t>& integer_attributes) {
  const Handle string_type = utf8_string_type(root.site());
  for (const auto& [name, text] : text_attributes) {
    const char* pointer = text.c_str();
    write_scalar_attribute(root, name, string_type.id(), string_type.id(), &pointer);
  }
  std::map<std::string, std::int64_t> int_attributes = integer_attributes;
  int_attributes[kSchemaVersionAttribute] = kSchemaVersion;
  for (const auto& [name, value] : int_attributes) {
    write_scalar_attribute(root, name, numeric_types<std::int64_t>().stored,
                           numeric_types<std::int64_t>().memory, &value);
  }
}

// ---- Reading

// HDF5 iteration callbacks are C code: collect the names, then do the throwing work outside.
template <typename Info>
herr_t collect_name(hid_t /*location*/, const char* name, const Info* info, void* names) noexcept {
  if constexpr (std::is_same_v<Info, H5L_info_t>) {
    // Soft and external links would read an object twice or from another file.
    if (info->type != H5L_TYPE_HARD) return 0;
  } else {
    (void)info;
  }
  try {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> child_link_names(const Handle& group) {
  std::vector<std::string> names;
  check(H5Literate(group.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name<H5L_info_t>, &names),
        group.site(), "list the group's members");
  return names;
}

std::vector<std::string> attribute_names(const Handle& object) {
  std::vector<std::string> names;
  check(H5Aiterate2(object.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name<H5A_info_t>, &names),
        object.site(), "list attributes");
  return names;
}

std::vector<hsize_t> dataspace_dims(const Handle& space) {
  const int rank = check(H5Sget_simple_extent_ndims(space.id()), space.site(), "get the rank");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), space.site(), "get the shape");
  return dims;
}

std::vector<hsize_t> dataset_dims(const Handle& dataset) {
  return dataspace_dims(Handle(H5Dget_space(dataset.id()), dataset.site(), "get the dataspace"));
}

Handle open_dataset(const Handle& file, const std::string& path) {
  return Handle(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT),
                Site{file.site().file, absolute_object_path(path)}, "open dataset");
}

void expect_dims(const Handle& dataset, const std::vector<hsize_t>& actual,
                 const std::vector<hsize_t>& expected) {
  if (actual != expected) {
    throw IoError("dataset '" + dataset.site().object + "' in '" + dataset.site().file + "' has shape " +
                  shape_text(actual) + ", expected " + shape_text(expected));
  }
}

// An /items dataset, checked to have one row per item.
Handle open_item_column(const Handle& file, const std::string& name, std::size_t item_count) {
  Handle dataset = open_dataset(file, items_path(name));
  expect_dims(dataset, dataset_dims(dataset), {item_count});
  return dataset;
}

template <typename T>
std::vector<T> read_numeric_dataset(const Handle& dataset, hsize_t element_count) {
  std::vector<T> values(element_count);
  if (element_count > 0) {  // HDF5 rejects the null buffer of an empty vector
    check(H5Dread(dataset.id(), numeric_types<T>().memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          dataset.site(), "read dataset");
  }
  return values;
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

// Reads `count` strings of `stored_type` through `read(memory_type, buffer)` (H5Dread or H5Aread). Accepts
// variable-length strings (what pixab writes) and fixed-length ones (which the schema also allows).
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
  const bool space_padded =
      check(H5Tget_strpad(stored_type), site, "get the string padding") == H5T_STR_SPACEPAD;
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

template <typename Stored, typename Member>
void read_item_column(const Handle& file, std::vector<ItemRecord>& items, const ItemColumn<Member>& column) {
  const Handle dataset = open_item_column(file, column.name, items.size());
  const std::vector<Stored> values = read_numeric_dataset<Stored>(dataset, items.size());
  for (std::size_t i = 0; i < items.size(); ++i) items[i].*column.member = static_cast<Member>(values[i]);
}

void read_string_column(const Handle& file, std::vector<ItemRecord>& items,
                        const ItemColumn<std::string>& column) {
  const Handle dataset = open_item_column(file, column.name, items.size());
  std::vector<std::string> values = read_string_dataset(dataset, items.size());
  for (std::size_t i = 0; i < items.size(); ++i) items[i].*column.member = std::move(values[i]);
}

void read_boxes(const Handle& file, std::vector<ItemRecord>& items) {
  const Handle boxes = open_dataset(file, items_path(kBoxesDataset));
  const std::vector<hsize_t> dims = dataset_dims(boxes);
  const hsize_t max_boxes = dims.size() == 3 ? dims[1] : 0;
  expect_dims(boxes, dims, {items.size(), max_boxes, kBoxCoordinates});
  const std::vector<float> coordinates = read_numeric_dataset<float>(boxes, element_count(dims));

  const Handle box_count = open_item_column(file, kBoxCountDataset, items.size());
  const std::vector<std::int32_t> counts = read_numeric_dataset<std::int32_t>(box_count, items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (counts[i] < 0 || static_cast<hsize_t>(counts[i]) > max_boxes) {
      throw IoError("'" + box_count.site().object + "' in '" + file.site().file + "' gives " +
                    std::to_string(counts[i]) + " boxes for item " + std::to_string(i) + ", but " +
                    boxes.site().object + " has room for " + std::to_string(max_boxes));
    }
    for (std::size_t b = 0; b < static_cast<std::size_t>(counts[i]); ++b) {
      const float* row = &coordinates[(i * max_boxes + b) * kBoxCoordinates];
      items[i].boxes.push_back(Box{row[0], row[1], row[2], row[3]});
    }
  }
}

std::vector<ItemRecord> read_items(const Handle& file) {
  const Handle ids = open_dataset(file, items_path(kStringColumns[0].name));
  const std::vector<hsize_t> dims = dataset_dims(ids);
  if (dims.size() != 1) {
    throw IoError("dataset '" + ids.site().object + "' in '" + ids.site().file + "' has shape " +
                  shape_text(dims) + ", expected one dimension (the item count)");
  }
  std::vector<ItemRecord> items(dims[0]);

  for (const auto& column : kStringColumns) read_string_column(file, items, column);
  read_item_column<std::int8_t>(file, items, kStatusColumn);
  read_item_column<std::uint32_t>(file, items, kFlagsColumn);
  for (const auto& column : kInt32Columns) read_item_column<std::int32_t>(file, items, column);
  for (const auto& column : kFloatColumns) read_item_column<float>(file, items, column);
  read_boxes(file, items);
  return items;
}

bool is_float32(const Handle& dataset) {
  const Handle type(H5Dget_type(dataset.id()), dataset.site(), "get the datatype");
  return check(H5Tget_class(type.id()), dataset.site(), "get the type class") == H5T_FLOAT &&
         check(H5Tget_size(type.id()), dataset.site(), "get the element size") == sizeof(float);
}

// Every float32 dataset below `group` except the item table, keyed by its path without the leading "/".
void read_float_arrays(const Handle& group, const std::string& prefix,
                       std::map<std::string, FloatArray>& arrays) {
  for (const std::string& name : child_link_names(group)) {
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (path == kItemsGroup) continue;
    const Site site = group.site().child(name);
    const Handle object(H5Oopen(group.id(), name.c_str(), H5P_DEFAULT), site, "open object");
    const H5I_type_t kind = check(H5Iget_type(object.id()), site, "get the object kind");
    if (kind == H5I_GROUP) {
      read_float_arrays(object, path, arrays);
    } else if (kind == H5I_DATASET && is_float32(object)) {
      FloatArray array;
      const std::vector<hsize_t> dims = dataset_dims(object);
      array.shape.assign(dims.begin(), dims.end());
      array.values = read_numeric_dataset<float>(object, element_count(dims));
      arrays.emplace(path, std::move(array));
    }
  }
}

// Strings go to text_attributes, integers to int_attributes; attributes of other types or with more than one
// element are not part of the schema's provenance and are skipped.
void read_root_attributes(const Handle& root, ResultsData& data) {
  for (const std::string& name : attribute_names(root)) {
    const std::string action_suffix = " of attribute '" + name + "'";
    const Handle attribute(H5Aopen(root.id(), name.c_str(), H5P_DEFAULT), root.site(),
                           "open attribute '" + name + "'");
    const Handle space(H5Aget_space(attribute.id()), root.site(), "get the dataspace" + action_suffix);
    if (check(H5Sget_simple_extent_npoints(space.id()), root.site(), "count the elements" + action_suffix) !=
        1)
      continue;
    const Handle type(H5Aget_type(attribute.id()), root.site(), "get the datatype" + action_suffix);
    const H5T_class_t type_class =
        check(H5Tget_class(type.id()), root.site(), "get the type class" + action_suffix);
    if (type_class == H5T_STRING) {
      data.text_attributes[name] =
          read_strings(type.id(), root.site(), 1, [&](hid_t memory_type, void* buffer) {
            return H5Aread(attribute.id(), memory_type, buffer);
          }).front();
    } else if (type_class == H5T_INTEGER) {
      std::int64_t value = 0;
      check(H5Aread(attribute.id(), numeric_types<std::int64_t>().memory, &value), root.site(),
            "read" + action_suffix);
      data.int_attributes[name] = value;
    }
  }
}

bool is_hdf5_file(const std::string& path) {
#if H5_VERSION_GE(1, 12, 0)
  return check(H5Fis_accessible(path.c_str(), H5P_DEFAULT), Site{path}, "inspect file") > 0;
#else
  return check(H5Fis_hdf5(path.c_str()), Site{path}, "inspect file") > 0;
#endif
}

}  // namespace

struct ResultsFileWriter::State {
  std::string path, temporary_path, directory;
  std::uint64_t items = 0;
  std::size_t box_capacity = 1;
  std::map<std::string, std::vector<hsize_t>> array_shapes;
  Handle file;
  std::map<std::string, Handle> datasets;  // by in-file path: the item columns and the arrays
  bool committed = false;

  const Handle& dataset(const std::string& path) const { return datasets.at(path); }

  // Every failure names the results file, whatever the HDF5 or filesystem call was.
  template <typename Work>
  void guarded(Work&& work) {
    try {
      work();
    } catch (const Error& error) {
      throw IoError("cannot write results file '" + path + "': " + error.what());
    } catch (const std::filesystem::filesystem_error& error) {
      throw IoError("cannot write results file '" + path + "': " + error.what());
    }
  }
};

ResultsFileWriter::ResultsFileWriter(std::string path, std::uint64_t items,
                                     const std::map<std::string, std::vector<std::uint64_t>>& array_shapes,
                                     std::size_t box_capacity)
    : state_(std::make_unique<State>()) {
  hdf5::silence_error_printing();
  State& st = *state_;
  st.path = std::move(path);
  // The pid keeps two processes writing one path (a rerun beside a dying job) off each other's temp file.
  st.temporary_path = st.path + ".tmp." + std::to_string(::getpid());
  st.items = items;
  st.box_capacity = std::max<std::size_t>(1, box_capacity);
  // A constructor that throws runs no destructor: remove the temporary file here.
  const auto discard = [&st] {
    st.datasets.clear();
    st.file = Handle();
    std::error_code ignored;
    std::filesystem::remove(st.temporary_path, ignored);
  };
  try {
    create(array_shapes);
  } catch (...) {
    discard();
    throw;
  }
}

void ResultsFileWriter::create(const std::map<std::string, std::vector<std::uint64_t>>& array_shapes) {
  State& st = *state_;
  const std::uint64_t items = st.items;
  st.guarded([&] {
    for (const auto& [array_path, shape] : array_shapes) {
      const std::string absolute = absolute_object_path(array_path);
      const std::string items_group = absolute_object_path(kItemsGroup);
      if (absolute == "/" || absolute == items_group || absolute.rfind(items_group + "/", 0) == 0) {
        throw IoError("array path '" + array_path + "' is empty or inside /items, which holds the item table");
      }
      if (shape.empty()) throw IoError("array '" + array_path + "' has no shape");
      st.array_shapes[array_path] = std::vector<hsize_t>(shape.begin(), shape.end());
    }
    std::filesystem::path directory = std::filesystem::path(st.path).parent_path();
    st.directory = directory.empty() ? "." : directory.string();
    std::filesystem::create_directories(st.directory);

    // Default (serial) property lists: one process writes the whole file, even with the parallel HDF5 library.
    st.file = Handle(H5Fcreate(st.temporary_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                     Site{st.temporary_path, "/"}, "create file");
    const auto column = [&](const std::string& name, hid_t stored, std::vector<hsize_t> dims) {
      st.datasets[items_path(name)] = create_dataset(st.file, items_path(name), stored, dims);
    };
    const Handle string_type = utf8_string_type(st.file.site());
    for (const auto& c : kStringColumns) column(c.name, string_type.id(), {items});
    column(kStatusColumn.name, numeric_types<std::int8_t>().stored, {items});
    column(kFlagsColumn.name, numeric_types<std::uint32_t>().stored, {items});
    for (const auto& c : kInt32Columns) column(c.name, numeric_types<std::int32_t>().stored, {items});
    for (const auto& c : kFloatColumns) column(c.name, numeric_types<float>().stored, {items});
    column(kBoxesDataset, numeric_types<float>().stored, {items, st.box_capacity, kBoxCoordinates});
    column(kBoxCountDataset, numeric_types<std::int32_t>().stored, {items});
    for (const auto& [array_path, dims] : st.array_shapes)
      st.datasets[array_path] = create_dataset(st.file, array_path, numeric_types<float>().stored, dims);
  });
}

ResultsFileWriter::~ResultsFileWriter() {
  if (state_->committed) return;
  state_->datasets.clear();
  state_->file = Handle();
  std::error_code ignored;
  std::filesystem::remove(state_->temporary_path, ignored);
}

void ResultsFileWriter::write(std::uint64_t first_row, const ResultsData& part) {
  State& st = *state_;
  st.guarded([&] {
    const auto& items = part.items;
    const hsize_t rows = items.size();
    for (const auto& c : kStringColumns) {
      std::vector<std::string> values;
      for (const ItemRecord& item : items) values.push_back(item.*c.member);
      write_string_rows(st.dataset(items_path(c.name)), first_row, values);
    }
    write_numeric_rows(st.dataset(items_path(kStatusColumn.name)), first_row,
                       item_column<std::int8_t>(items, kStatusColumn.member), rows);
    write_numeric_rows(st.dataset(items_path(kFlagsColumn.name)), first_row,
                       item_column<std::uint32_t>(items, kFlagsColumn.member), rows);
    for (const auto& c : kInt32Columns)
      write_numeric_rows(st.dataset(items_path(c.name)), first_row, item_column<std::int32_t>(items, c.member), rows);
    for (const auto& c : kFloatColumns)
      write_numeric_rows(st.dataset(items_path(c.name)), first_row, item_column<float>(items, c.member), rows);
    std::vector<std::int32_t> counts;
    for (const ItemRecord& item : items) {
      if (item.boxes.size() > st.box_capacity) {
        throw IoError("item '" + item.id + "' has " + std::to_string(item.boxes.size()) +
                      " boxes, more than the file's " + std::to_string(st.box_capacity));
      }
      counts.push_back(static_cast<std::int32_t>(item.boxes.size()));
    }
    write_numeric_rows(st.dataset(items_path(kBoxesDataset)), first_row, box_rows(items, st.box_capacity), rows);
    write_numeric_rows(st.dataset(items_path(kBoxCountDataset)), first_row, counts, rows);

    for (const auto& [array_path, array] : part.arrays) {
      const auto layout = st.array_shapes.find(array_path);
      if (layout == st.array_shapes.end()) {
        throw IoError("array '" + array_path + "' is not in the file's layout");
      }
      const std::vector<hsize_t> dims = checked_array_dims(array_path, array);
      std::vector<hsize_t> expected = layout->second;
      expected[0] = dims[0];
      if (dims != expected) {
        throw IoError("array '" + array_path + "' has shape " + shape_text(dims) + ", expected " +
                      shape_text(expected));
      }
      write_numeric_rows(st.dataset(array_path), first_row, array.values, dims[0]);
    }
  });
}

void ResultsFileWriter::commit(const std::map<std::string, std::string>& text_attributes,
                               const std::map<std::string, std::int64_t>& int_attributes) {
  State& st = *state_;
  st.guarded([&] {
    {
      const Handle root(H5Gopen2(st.file.id(), "/", H5P_DEFAULT), st.file.site(), "open the root group");
      write_root_attributes(root, text_attributes, int_attributes);
    }
    st.datasets.clear();
    check(H5Fflush(st.file.id(), H5F_SCOPE_GLOBAL), st.file.site(), "flush file");
    st.file.close();
    // Data on disk before the rename, the rename on disk before we report success: a crash at any point
    // leaves either the old file or the complete new one.
    fsync_path(st.temporary_path, O_RDONLY);
    std::filesystem::rename(st.temporary_path, st.path);
    st.committed = true;
    fsync_path(st.directory, O_RDONLY | O_DIRECTORY);
  });
}

void write_results_file(const std::string& path, const ResultsData& data) {
  std::map<std::string, std::vector<std::uint64_t>> array_shapes;
  for (const auto& [array_path, array] : data.arrays) {
    try {
      checked_array_dims(array_path, array);  // before the file is created
    } catch (const Error& error) {
      throw IoError("cannot write results file '" + path + "': " + error.what());
    }
    array_shapes[array_path] = array.shape;
  }
  std::size_t box_capacity = 1;
  for (const ItemRecord& item : data.items) box_capacity = std::max(box_capacity, item.boxes.size());
  ResultsFileWriter writer(path, data.items.size(), array_shapes, box_capacity);
  writer.write(0, data);
  writer.commit(data.text_attributes, data.int_attributes);
}

ResultsData read_results_attributes(const std::string& path) {
  hdf5::silence_error_printing();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error) || !is_hdf5_file(path)) {
    throw IoError("cannot read results file '" + path + "': it does not exist or is not an HDF5 file");
  }
  const Site site{path, "/"};
  const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), site, "open file");
  const Handle root(H5Gopen2(file.id(), "/", H5P_DEFAULT), site, "open the root group");
  ResultsData data;
  read_root_attributes(root, data);
  return data;
}

ResultsData read_results_file(const std::string& path) {
  hdf5::silence_error_printing();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw IoError("cannot read results file '" + path + "': it does not exist or is not a regular file");
  }
  if (!is_hdf5_file(path)) throw IoError("cannot read results file '" + path + "': not an HDF5 file");

  const Site site{path, "/"};
  const Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), site, "open file");
  const Handle root(H5Gopen2(file.id(), "/", H5P_DEFAULT), site, "open the root group");
  ResultsData data;
  data.items = read_items(file);
  read_float_arrays(root, "", data.arrays);
  read_root_attributes(root, data);
  return data;
}

}  // namespace pixab
