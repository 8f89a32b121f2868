// A results file as `pixab report` and `pixab render` see it: the inputs loaded with only the arrays they use,
// the attributes and item counts they print, the per-method array paths they look up.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/results_file.hpp"
#include "workers/cams/cam_settings.hpp"

namespace pixab {

// One results file as the report sees it.
struct ReportInput {
  std::string path;
  std::string label;  // column heading: the dataset_label attribute, else the file name's stem; unique
  std::string task;   // the task attribute, "natural" when absent
  ResultsData data;   // the items, attributes, /metrics and /sanity correlation arrays (no other array is read)
};

// Reads the files (IoError naming the one that cannot be read or has arrays of the wrong length). A label
// already taken by an earlier file of the same task gets "-2", "-3", ... appended, so every column and cell
// key of a table stays distinct (a natural and a sanity file never share a table).
std::vector<ReportInput> load_report_inputs(const std::vector<std::string>& paths);

// "<group>/<method>/<name>", the layout of every per-method array the report tabulates.
struct MethodArrayPath {
  std::string group, method, name;
};

// The parts of such a path; nothing for another layout (e.g. "maps/<method>").
std::optional<MethodArrayPath> parse_method_array_path(const std::string& path);

// The rank of an array the report tabulates (metrics/<method>/<name>: [items]; sanity/<method>/spearman and
// ssim: [items, stages]); nothing for the others (maps, curves, sanity maps), which the report does not read.
std::optional<std::size_t> tabulated_rank(const std::string& path);

// Item counts by status name, in status-code order (ok first); statuses without items are left out.
std::vector<std::pair<std::string, std::size_t>> items_by_status(const ResultsData& data);

// A text attribute, or "" when the file lacks it.
std::string text_attribute(const ResultsData& data, const std::string& key);

// The entries of a comma-joined attribute (`methods`, `sanity_stages`), trimmed, empty ones left out.
std::vector<std::string> split_list(const std::string& text);

// The names of a sanity file's `stages` stages: its sanity_stages attribute when that names them all, else
// "1".."stages" (with a warning naming `file` when it names another count), so that no stage is mislabelled.
std::vector<std::string> sanity_stage_names(const ResultsData& data, const std::string& file, std::size_t stages);

// How an adversarial task's attack fared: rows with status ok among the rows with ok or attack_failed
// (rows that failed for another reason were never attacked to the end).
struct AttackSuccess {
  std::size_t succeeded = 0, attempted = 0;
};

// Nothing for a file whose task is not an adversarial one (dap1, dap2) in the task registry.
std::optional<AttackSuccess> attack_success(const ReportInput& input);

// The Pixab-CAM methods of the `pixab_variants` attribute, one "<method id>: <settings>" per line, with their
// settings; a line that does not parse is left out with a warning naming the file; empty without the
// attribute.
std::vector<std::pair<std::string, PixabSettings>> pixab_variants(const ReportInput& input);

}  // namespace pixab
