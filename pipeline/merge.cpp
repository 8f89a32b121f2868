// Merging chunk files (see merge.hpp): one pass over their metadata to check every chunk and size the file, one
// to copy their data, each chunk read once.
#include "pipeline/merge.hpp"

#include <algorithm>

#include "io/error.hpp"
#include "io/results_file.hpp"

namespace pixab {

namespace {

// A chunk file's rows must be exactly the manifest's rows of that chunk.
void check_chunk(const ResultsSummary& chunk, const Manifest& manifest, std::size_t index, const std::string& path) {
  const auto [first, count] = manifest.chunk_rows(index);
  const auto first_row = chunk.int_attributes.find("first_row");
  const auto hash = chunk.text_attributes.find("manifest_sha256");
  if (first_row == chunk.int_attributes.end() || static_cast<std::size_t>(first_row->second) != first ||
      hash == chunk.text_attributes.end() || hash->second != manifest.sha256 || chunk.ids.size() != count) {
    throw IoError("chunk file " + path + " does not hold rows " + std::to_string(first) + ".." +
                  std::to_string(first + count) + " of this manifest");
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (chunk.ids[i] != manifest.rows[first + i].id) {
      throw IoError("chunk file " + path + ": row " + std::to_string(first + i) + " is '" + chunk.ids[i] +
                    "', the manifest says '" + manifest.rows[first + i].id + "'");
    }
  }
}

}  // namespace

MergeCounts merge_chunks(const JobFiles& files, const Manifest& manifest,
                         const std::map<std::string, std::string>& text_attributes,
                         std::map<std::string, std::int64_t> int_attributes,
                         const std::vector<std::string>& per_item_arrays) {
  const auto per_item = [&](const std::string& path) {
    return std::find(per_item_arrays.begin(), per_item_arrays.end(), path) != per_item_arrays.end();
  };
  // First pass, metadata only: every chunk is checked and the file sized before anything is written.
  std::size_t box_capacity = 1;
  std::map<std::string, ArrayLayout> layout;
  for (std::size_t c = 0; c < manifest.chunk_count(); ++c) {
    const std::string path = files.chunk_path(c);
    const ResultsSummary chunk = read_results_summary(path);  // IoError naming the file when it is missing
    check_chunk(chunk, manifest, c, path);
    for (const std::size_t boxes : chunk.box_counts) box_capacity = std::max(box_capacity, boxes);
    const std::map<std::string, ArrayLayout> arrays = read_results_layout(path);
    for (const auto& [array_path, array] : arrays) {
      if (array.shape.empty())
        throw IoError("chunk file " + path + ": array " + array_path + " has no row (item) dimension");
      ArrayLayout whole = array;
      whole.shape[0] = per_item(array_path) ? manifest.items.size() : manifest.rows.size();
      const auto [known, inserted] = layout.emplace(array_path, whole);
      if ((!inserted && known->second != whole) || (c > 0 && inserted)) {
        throw IoError("chunk file " + path + ": array " + array_path + " differs from the first chunk's arrays");
      }
    }
    if (c > 0 && arrays.size() != layout.size()) {
      throw IoError("chunk file " + path + " lacks arrays the first chunk has");
    }
  }

  // Second pass: each chunk read once, written, dropped.
  MergeCounts counts;
  std::vector<bool> item_written(manifest.items.size(), false);  // of the per-item arrays
  ResultsFileWriter writer(files.out(), manifest.rows.size(), layout, box_capacity);
  for (std::size_t c = 0; c < manifest.chunk_count(); ++c) {
    ResultsData chunk = read_results_file(files.chunk_path(c));
    for (const ItemRecord& item : chunk.items)
      (item.status == ItemStatus::kOk ? counts.items_ok : counts.items_failed) += 1;
    const std::size_t first = manifest.chunk_rows(c).first;
    // Each item's per-item arrays come from its first row that holds them: ok or attack_failed (the task made
    // its arrays); a row that could not be read or failed in the model holds only fill.
    std::vector<std::size_t> item_rows;  // in the chunk
    for (std::size_t row = 0; row < chunk.items.size(); ++row) {
      const std::size_t item = manifest.rows[first + row].item_index;
      const ItemStatus status = chunk.items[row].status;
      if (item_written[item] || (status != ItemStatus::kOk && status != ItemStatus::kAttackFailed)) continue;
      item_written[item] = true;
      item_rows.push_back(row);
    }
    for (const std::string& path : per_item_arrays) {
      const auto array = chunk.arrays.find(path);
      if (array == chunk.arrays.end()) continue;
      for (const std::size_t row : item_rows)
        writer.write_array(path, manifest.rows[first + row].item_index, array->second.row_range(row, 1));
      chunk.arrays.erase(array);
    }
    writer.write(first, chunk);
  }
  int_attributes["items_total"] = static_cast<std::int64_t>(manifest.rows.size());
  int_attributes["items_ok"] = counts.items_ok;
  int_attributes["items_failed"] = counts.items_failed;
  writer.commit(text_attributes, int_attributes);
  return counts;
}

}  // namespace pixab
