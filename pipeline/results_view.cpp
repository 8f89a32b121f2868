// A results file as `pixab report` and `pixab render` see it (see results_view.hpp).
#include "pipeline/results_view.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "io/error.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

namespace {

std::string trimmed(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

ReportInput load_report_input(const std::string& path) {
  // Only the tabulated arrays are read: one file's maps can take gigabytes.
  ReportInput input{path, "", "", read_results_file(path, ArraySelection::matching([](const std::string& array) {
                                                      return tabulated_rank(array).has_value();
                                                    }))};
  const ResultsData& data = input.data;
  for (const auto& [array_path, array] : data.arrays) {
    const std::size_t rank = *tabulated_rank(array_path);
    const std::vector<std::uint64_t>& shape = array.shape;
    if (shape.size() != rank || shape[0] != data.items.size()) {
      throw IoError(fmt::format("{}: /{} has shape [{}], expected {} dimensions with {} rows (one per item)",
                                path, array_path, fmt::join(shape, ", "), rank, data.items.size()));
    }
  }
  input.task = text_attribute(data, "task");
  if (input.task.empty()) input.task = "natural";
  input.label = text_attribute(data, "dataset_label");
  if (input.label.empty()) input.label = std::filesystem::path(path).stem().string();
  return input;
}

}  // namespace

std::vector<ReportInput> load_report_inputs(const std::vector<std::string>& paths) {
  std::vector<ReportInput> inputs;
  // Files of different tasks never share a column (dap1 and dap2 share Table 6 but not its metrics), so a
  // label only needs to be unique within its task; a renamed label would change the cell keys, and so the
  // intervals, of a file that collides with nothing.
  std::map<std::string, std::set<std::string>> labels_by_task;
  for (const std::string& path : paths) {
    ReportInput input = load_report_input(path);
    std::set<std::string>& labels = labels_by_task[input.task];
    const std::string wanted = input.label;
    for (int copy = 2; labels.count(input.label); ++copy) input.label = fmt::format("{}-{}", wanted, copy);
    labels.insert(input.label);
    inputs.push_back(std::move(input));
  }
  return inputs;
}

std::optional<MethodArrayPath> parse_method_array_path(const std::string& path) {
  const auto first = path.find('/');
  const auto last = path.rfind('/');
  if (first == std::string::npos || first == last || last == path.size() - 1) return std::nullopt;
  MethodArrayPath parsed{path.substr(0, first), path.substr(first + 1, last - first - 1), path.substr(last + 1)};
  if (parsed.method.empty() || parsed.method.find('/') != std::string::npos) return std::nullopt;
  return parsed;
}

std::optional<std::size_t> tabulated_rank(const std::string& path) {
  const auto parsed = parse_method_array_path(path);
  if (!parsed) return std::nullopt;
  if (parsed->group == "metrics") return 1;
  if (parsed->group == "sanity" && (parsed->name == "spearman" || parsed->name == "ssim")) return 2;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::size_t>> items_by_status(const ResultsData& data) {
  std::map<int, std::size_t> by_code;
  for (const ItemRecord& item : data.items) ++by_code[static_cast<int>(item.status)];
  std::vector<std::pair<std::string, std::size_t>> counts;
  for (const auto& [code, count] : by_code)
    counts.emplace_back(item_status_name(static_cast<ItemStatus>(code)), count);
  return counts;
}

std::string text_attribute(const ResultsData& data, const std::string& key) {
  const auto it = data.text_attributes.find(key);
  return it == data.text_attributes.end() ? std::string() : it->second;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (std::string entry = trimmed(part); !entry.empty()) parts.push_back(std::move(entry));
  }
  return parts;
}

std::vector<std::string> sanity_stage_names(const ResultsData& data, const std::string& file,
                                            std::size_t stages) {
  std::vector<std::string> names = split_list(text_attribute(data, "sanity_stages"));
  if (names.size() == stages) return names;
  if (!names.empty())
    spdlog::warn("{}: sanity_stages names {} stages, the arrays have {}; numbering them", file, names.size(),
                 stages);
  names.clear();
  for (std::size_t s = 1; s <= stages; ++s) names.push_back(std::to_string(s));
  return names;
}

std::optional<AttackSuccess> attack_success(const ReportInput& input) {
  const TaskInfo* task = find_task(input.task);
  if (!task || task->report != TaskReport::kAdversarial) return std::nullopt;
  AttackSuccess success;
  for (const ItemRecord& item : input.data.items) {
    if (item.status == ItemStatus::kOk) ++success.succeeded;
    if (item.status == ItemStatus::kOk || item.status == ItemStatus::kAttackFailed) ++success.attempted;
  }
  return success;
}

std::vector<std::pair<std::string, PixabSettings>> pixab_variants(const ReportInput& input) {
  std::vector<std::pair<std::string, PixabSettings>> variants;
  std::stringstream lines(text_attribute(input.data, "pixab_variants"));
  for (std::string line; std::getline(lines, line, '\n');) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto colon = line.find(':');
    const std::string id = trimmed(line.substr(0, colon));
    try {
      if (colon == std::string::npos || id.empty()) throw ConfigError("expected \"<method id>: <settings>\"");
      // The method id may hold '@', which a variant's name may not: the settings are parsed under a stand-in.
      variants.emplace_back(id, parse_pixab_variant("x: " + line.substr(colon + 1), PixabSettings{}).second);
    } catch (const ConfigError& error) {
      spdlog::warn("{}: pixab_variants line '{}' left out: {}", input.path, line, error.what());
    }
  }
  return variants;
}

}  // namespace pixab
