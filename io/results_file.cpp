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
#include "io/hdf5/attributes.hpp"
#include "io/hdf5/dataset.hpp"
#include "io/hdf5/handle.hpp"

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

using hdf5::absolute_object_path;
using hdf5::child_link_names;
using hdf5::create_dataset;
using hdf5::dataset_dims;
using hdf5::element_count;
using hdf5::numeric_types;
using hdf5::open_dataset;
using hdf5::read_numeric_dataset;
using hdf5::read_string_dataset;
using hdf5::utf8_string_type;
using hdf5::write_numeric_rows;
using hdf5::write_string_rows;

constexpr const char* kItemsGroup = "items";
constexpr const char* kSchemaVersionAttribute = "schema_version";

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

std::string dims_text(const std::vector<hsize_t>& dims) {
  return shape_text(std::vector<std::uint64_t>(dims.begin(), dims.end()));
}

// ---- Writing

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
std::vector<hsize_t> checked_array_dims(const std::string& path, const TypedArray& array) {
  const std::string absolute = absolute_object_path(path);
  const std::string items_group = absolute_object_path(kItemsGroup);
  if (absolute == "/" || absolute == items_group || absolute.rfind(items_group + "/", 0) == 0) {
    throw IoError("array path '" + path + "' is empty or inside /items, which holds the item table");
  }
  if (array.shape.empty()) throw IoError("array '" + path + "' has no shape");
  const std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
  if (element_count(dims) != array.element_count()) {
    throw IoError("array '" + path + "' has shape " + dims_text(dims) + " (" +
                  std::to_string(element_count(dims)) + " values) but holds " +
                  std::to_string(array.element_count()) + " values");
  }
  return dims;
}

void write_root_attributes(const Handle& root, const std::map<std::string, std::string>& text_attributes,
                           const std::map<std::string, std::int64_t>& integer_attributes) {
  for (const auto& [name, text] : text_attributes) hdf5::write_text_attribute(root, name, text);
  std::map<std::string, std::int64_t> int_attributes = integer_attributes;
  int_attributes[kSchemaVersionAttribute] = kSchemaVersion;
  for (const auto& [name, value] : int_attributes) hdf5::write_int_attribute(root, name, value);
}

// ---- Reading

void expect_dims(const Handle& dataset, const std::vector<hsize_t>& actual,
                 const std::vector<hsize_t>& expected) {
  if (actual != expected) {
    throw IoError("dataset '" + dataset.site().object + "' in '" + dataset.site().file + "' has shape " +
                  dims_text(actual) + ", expected " + dims_text(expected));
  }
}

// An /items dataset, checked to have one row per item.
Handle open_item_column(const Handle& file, const std::string& name, std::size_t item_count) {
  Handle dataset = open_dataset(file, items_path(name));
  expect_dims(dataset, dataset_dims(dataset), {item_count});
  return dataset;
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
                  dims_text(dims) + ", expected one dimension (the item count)");
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

// Calls visit(path, dataset) for every dataset below `group` except the item table, its path without the
// leading "/", in name order.
void for_each_array(const Handle& group, const std::string& prefix,
                    const std::function<void(const std::string&, const Handle&)>& visit) {
  for (const std::string& name : child_link_names(group)) {
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (path == kItemsGroup) continue;
    const Site site = group.site().child(name);
    const Handle object(H5Oopen(group.id(), name.c_str(), H5P_DEFAULT), site, "open object");
    const H5I_type_t kind = check(H5Iget_type(object.id()), site, "get the object kind");
    if (kind == H5I_GROUP) {
      for_each_array(object, path, visit);
    } else if (kind == H5I_DATASET) {
      visit(path, object);
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

// An open results file and its root group; the errors name the file.
struct OpenResultsFile {
  Handle file, root;
};

OpenResultsFile open_results_file(const std::string& path) {
  hdf5::silence_error_printing();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw IoError("cannot read results file '" + path + "': it does not exist or is not a regular file");
  }
  if (!is_hdf5_file(path)) throw IoError("cannot read results file '" + path + "': not an HDF5 file");
  const Site site{path, "/"};
  OpenResultsFile opened;
  opened.file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), site, "open file");
  opened.root = Handle(H5Gopen2(opened.file.id(), "/", H5P_DEFAULT), site, "open the root group");
  return opened;
}

}  // namespace

struct ResultsFileWriter::State {
  std::string path, temporary_path, directory;
  std::uint64_t items = 0;
  std::size_t box_capacity = 1;
  std::map<std::string, ArrayLayout> layout;
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
                                     const std::map<std::string, ArrayLayout>& layout, std::size_t box_capacity)
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
    create(layout);
  } catch (...) {
    discard();
    throw;
  }
}

void ResultsFileWriter::create(const std::map<std::string, ArrayLayout>& layout) {
  State& st = *state_;
  const std::uint64_t items = st.items;
  st.guarded([&] {
    for (const auto& [array_path, array_layout] : layout) {
      const std::string absolute = absolute_object_path(array_path);
      const std::string items_group = absolute_object_path(kItemsGroup);
      if (absolute == "/" || absolute == items_group || absolute.rfind(items_group + "/", 0) == 0) {
        throw IoError("array path '" + array_path + "' is empty or inside /items, which holds the item table");
      }
      if (array_layout.shape.empty()) throw IoError("array '" + array_path + "' has no shape");
      st.layout[array_path] = array_layout;
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
    for (const auto& [array_path, array_layout] : st.layout) {
      const std::vector<hsize_t> dims(array_layout.shape.begin(), array_layout.shape.end());
      st.datasets[array_path] = create_dataset(st.file, array_path, numeric_types(array_layout.dtype).stored, dims);
    }
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

  });
  for (const auto& [array_path, array] : part.arrays) write_array(array_path, first_row, array);
}

void ResultsFileWriter::write_array(const std::string& array_path, std::uint64_t first_row, const TypedArray& array) {
  State& st = *state_;
  st.guarded([&] {
    const auto layout = st.layout.find(array_path);
    if (layout == st.layout.end()) {
      throw IoError("array '" + array_path + "' is not in the file's layout");
    }
    const std::vector<hsize_t> dims = checked_array_dims(array_path, array);
    ArrayLayout expected = layout->second;
    expected.shape[0] = dims[0];
    if (array.dtype() != expected.dtype || array.shape != expected.shape) {
      throw IoError("array '" + array_path + "' is " + dtype_name(array.dtype()) + " of shape " +
                    shape_text(array.shape) + ", expected " + dtype_name(expected.dtype) + " of shape " +
                    shape_text(expected.shape));
    }
    hdf5::write_rows(st.dataset(array_path), numeric_types(array.dtype()).memory, first_row, dims[0], array.data());
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
  std::map<std::string, ArrayLayout> layout;
  for (const auto& [array_path, array] : data.arrays) {
    try {
      checked_array_dims(array_path, array);  // before the file is created
    } catch (const Error& error) {
      throw IoError("cannot write results file '" + path + "': " + error.what());
    }
    layout[array_path] = ArrayLayout{array.dtype(), array.shape};
  }
  std::size_t box_capacity = 1;
  for (const ItemRecord& item : data.items) box_capacity = std::max(box_capacity, item.boxes.size());
  ResultsFileWriter writer(path, data.items.size(), layout, box_capacity);
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
  hdf5::read_scalar_attributes(root, data.text_attributes, data.int_attributes);
  return data;
}

ArraySelection ArraySelection::all() {
  return ArraySelection([](const std::string&) { return true; });
}

ArraySelection ArraySelection::paths(std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  return ArraySelection([paths = std::move(paths)](const std::string& path) {
    return std::binary_search(paths.begin(), paths.end(), path);
  });
}

ArraySelection ArraySelection::matching(std::function<bool(const std::string&)> wanted) {
  return ArraySelection(std::move(wanted));
}

ResultsData read_results_file(const std::string& path, const ArraySelection& arrays) {
  const OpenResultsFile opened = open_results_file(path);
  ResultsData data;
  data.items = read_items(opened.file);
  for_each_array(opened.root, "", [&](const std::string& array_path, const Handle& dataset) {
    if (arrays.includes(array_path)) {
      data.arrays.emplace(array_path, hdf5::read_typed_dataset(dataset));
    } else {
      hdf5::dataset_dtype(dataset);  // refuses an element type pixab cannot read, selected or not
    }
  });
  hdf5::read_scalar_attributes(opened.root, data.text_attributes, data.int_attributes);
  return data;
}

std::map<std::string, ArrayLayout> read_results_layout(const std::string& path) {
  const OpenResultsFile opened = open_results_file(path);
  std::map<std::string, ArrayLayout> layout;
  for_each_array(opened.root, "", [&](const std::string& array_path, const Handle& dataset) {
    const std::vector<hsize_t> dims = dataset_dims(dataset);
    layout[array_path] = ArrayLayout{hdf5::dataset_dtype(dataset), std::vector<std::uint64_t>(dims.begin(), dims.end())};
  });
  return layout;
}

ResultsSummary read_results_summary(const std::string& path) {
  const OpenResultsFile opened = open_results_file(path);
  ResultsSummary summary;
  const Handle ids = open_dataset(opened.file, items_path(kStringColumns[0].name));
  const std::vector<hsize_t> dims = dataset_dims(ids);
  if (dims.size() != 1) {
    throw IoError("dataset '" + ids.site().object + "' in '" + ids.site().file + "' has shape " +
                  dims_text(dims) + ", expected one dimension (the item count)");
  }
  summary.ids = read_string_dataset(ids, dims[0]);
  const Handle box_count = open_item_column(opened.file, kBoxCountDataset, dims[0]);
  for (const std::int32_t count : read_numeric_dataset<std::int32_t>(box_count, dims[0])) {
    if (count < 0) {
      throw IoError("'" + box_count.site().object + "' in '" + path + "' gives " + std::to_string(count) +
                    " boxes for an item");
    }
    summary.box_counts.push_back(static_cast<std::size_t>(count));
  }
  hdf5::read_scalar_attributes(opened.root, summary.text_attributes, summary.int_attributes);
  return summary;
}

}  // namespace pixab
