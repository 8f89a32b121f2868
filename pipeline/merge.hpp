// The final merge: rank 0 streams the chunk files into the one results file, in manifest order, checking that
// every item of the manifest is there exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "pipeline/job_files.hpp"
#include "pipeline/manifest.hpp"

namespace pixab {

struct MergeCounts {
  std::int64_t items_ok = 0, items_failed = 0;
};

// Writes files.out() atomically from the chunk files, with the given root attributes plus items_total,
// items_ok and items_failed. Holds one chunk in memory at a time. IoError naming the chunk file when a chunk
// is missing or its rows are not the manifest's; the chunk files are left untouched (the caller removes them
// after success). `per_item_arrays` (Task::per_item_arrays) have one row per source item in the file: each
// item's first row (TaskRow::index 0) of the chunks' per-row array, at the item's position.
MergeCounts merge_chunks(const JobFiles& files, const Manifest& manifest,
                         const std::map<std::string, std::string>& text_attributes,
                         std::map<std::string, std::int64_t> int_attributes,
                         const std::vector<std::string>& per_item_arrays = {});

}  // namespace pixab
