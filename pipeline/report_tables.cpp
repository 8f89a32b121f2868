// Builds the report's tables: rows, columns, each cell's mean and bootstrap interval, the best marks.
#include "pipeline/report_tables.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "io/error.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

namespace {

enum class Better { kNone, kLower, kHigher };

// A metric as a column of a paper table; values are multiplied by `scale` (100 turns a 0/1 rate into %).
struct MetricColumnSpec {
  const char* metric;
  const char* heading;
  double scale;
  int decimals;
  Better better;
};

struct NaturalTableSpec {
  const char* id;
  const char* title;
  std::string note;
  std::vector<MetricColumnSpec> metrics;
};

// The footnote of a table with marked columns (mark_best); `direction` says which way is better.
std::string best_note(const std::string& direction) {
  return "In bold: the best mean of each column (" + direction +
         ") and every other mean shown with the same digits.";
}

constexpr const char* kCompactnessNote =
    " Compactness is not marked: the paper argues that neither the smallest nor the largest map is ideal, "
    "but one that covers the target compactly.";

const std::vector<NaturalTableSpec>& natural_table_specs() {
  static const std::vector<NaturalTableSpec> specs{
      {"table3",
       "Table 3: AD, IIC and Compactness",
       best_note("AD lower, IIC higher") + kCompactnessNote,
       {{"average_drop", "AD (%)", 1, 2, Better::kLower},
        {"increase_in_confidence", "IIC (%)", 100, 2, Better::kHigher},
        {"compactness", "Compactness", 1, 3, Better::kNone}}},
      {"table4",
       "Table 4: Deletion and Insertion AUC",
       best_note("Deletion lower, Insertion higher"),
       {{"deletion_auc", "Deletion", 1, 3, Better::kLower},
        {"insertion_auc", "Insertion", 1, 3, Better::kHigher}}},
      {"table5",
       "Table 5: Object localisation (OL, proportion)",
       best_note("higher"),
       {{"proportion", "OL (%)", 1, 2, Better::kHigher}}},
      {"localisation",
       "Localisation: pointing game, box IoU, correct localisation (not a paper table)",
       best_note("higher"),
       {{"pointing_game", "PG (%)", 100, 2, Better::kHigher},
        {"loc_iou", "IoU", 1, 3, Better::kHigher},
        {"loc_correct", "Loc. correct (%)", 100, 2, Better::kHigher}}},
  };
  return specs;
}

struct SanityMeasure {
  const char* name;  // array name under /sanity/<method>/
  const char* title;
};
constexpr SanityMeasure kSanityMeasures[] = {{"spearman", "Spearman rank correlation"}, {"ssim", "SSIM"}};
constexpr const char* kSanityNote =
    "Not marked: a method passes when its similarity to the original map falls towards 0 as more of the "
    "model is randomised, which is read along a row, not compared down a column.";

// "<group>/<method>/<name>", the layout of every array the report tabulates.
struct ArrayPath {
  std::string group, method, name;
};

std::optional<ArrayPath> parse_array_path(const std::string& path) {
  const auto first = path.find('/');
  const auto last = path.rfind('/');
  if (first == std::string::npos || first == last || last == path.size() - 1) return std::nullopt;
  ArrayPath parsed{path.substr(0, first), path.substr(first + 1, last - first - 1), path.substr(last + 1)};
  if (parsed.method.empty() || parsed.method.find('/') != std::string::npos) return std::nullopt;
  return parsed;
}

// Metrics are one value per item; sanity correlations one per item and stage. The maps are not tabulated.
std::optional<std::size_t> tabulated_rank(const std::string& path) {
  const auto parsed = parse_array_path(path);
  if (!parsed) return std::nullopt;
  if (parsed->group == "metrics") return 1;
  if (parsed->group == "sanity" && (parsed->name == "spearman" || parsed->name == "ssim")) return 2;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    const auto begin = part.find_first_not_of(" \t");
    if (begin != std::string::npos)
      parts.push_back(part.substr(begin, part.find_last_not_of(" \t") - begin + 1));
  }
  return parts;
}

namespace {

ReportInput load_report_input(const std::string& path) {
  ReportInput input{path, "", "", read_results_file(path)};
  ResultsData& data = input.data;
  // Only the tabulated arrays stay in memory: one file's maps can take gigabytes.
  for (auto it = data.arrays.begin(); it != data.arrays.end();) {
    const auto rank = tabulated_rank(it->first);
    if (!rank) {
      it = data.arrays.erase(it);
      continue;
    }
    const std::vector<std::uint64_t>& shape = it->second.shape;
    if (shape.size() != *rank || shape[0] != data.items.size()) {
      throw IoError(fmt::format("{}: /{} has shape [{}], expected {} dimensions with {} rows (one per item)",
                                path, it->first, fmt::join(shape, ", "), *rank, data.items.size()));
    }
    ++it;
  }
  input.task = text_attribute(data, "task");
  if (input.task.empty()) input.task = "natural";
  input.label = text_attribute(data, "dataset_label");
  if (input.label.empty()) input.label = std::filesystem::path(path).stem().string();
  return input;
}

// The files' `methods` attributes in file order, then methods found only in arrays, alphabetically.
std::vector<std::string> method_order(const std::vector<ReportInput>& inputs) {
  std::vector<std::string> order;
  const auto add = [&order](const std::string& method) {
    if (std::find(order.begin(), order.end(), method) == order.end()) order.push_back(method);
  };
  for (const ReportInput& input : inputs) {
    for (const std::string& method : split_list(text_attribute(input.data, "methods"))) add(method);
  }
  std::set<std::string> in_arrays;
  for (const ReportInput& input : inputs) {
    for (const auto& [path, array] : input.data.arrays) {
      if (tabulated_rank(path)) in_arrays.insert(parse_array_path(path)->method);
    }
  }
  for (const std::string& method : in_arrays) add(method);
  return order;
}

bool has_array_named(const ReportInput& input, const std::string& group, const std::string& name) {
  return std::any_of(input.data.arrays.begin(), input.data.arrays.end(), [&](const auto& entry) {
    const auto parsed = parse_array_path(entry.first);
    return parsed && parsed->group == group && parsed->name == name;
  });
}

// A column before its cells are computed: where its values come from.
struct ColumnPlan {
  ReportColumn column;
  Better better;
  const ReportInput* input;
  std::string group, name;  // the array is <group>/<method>/<name>
  std::size_t index;        // position within an item's row (the stage of a sanity array)
  double scale;
};

// The column's values for `method` on the file's ok items (NaN included), or nothing without the array.
std::optional<std::vector<double>> ok_item_values(const ColumnPlan& plan, const std::string& method) {
  const auto& arrays = plan.input->data.arrays;
  const auto it = arrays.find(plan.group + "/" + method + "/" + plan.name);
  if (it == arrays.end()) return std::nullopt;
  const FloatArray& array = it->second;
  const std::size_t row_size = array.shape.size() > 1 ? array.shape[1] : 1;
  if (plan.index >= row_size) return std::nullopt;
  const std::vector<ItemRecord>& items = plan.input->data.items;
  std::vector<double> values;
  for (std::size_t row = 0; row < items.size(); ++row) {
    if (items[row].status == ItemStatus::kOk)
      values.push_back(plan.scale * array.values[row * row_size + plan.index]);
  }
  return values;
}

// A mean as the Markdown table shows it, rounded to the column's decimals, read back (locale-free, -0 = 0).
double displayed_mean(double mean, int decimals) {
  const std::string shown = fmt::format("{:.{}f}", mean, decimals);
  double value = std::numeric_limits<double>::quiet_NaN();
  std::from_chars(shown.data(), shown.data() + shown.size(), value);
  return value;
}

// Marks every cell whose mean, as displayed, equals the column's best as displayed: means that differ only
// beyond the shown decimals are ties a reader could not tell apart, so all of them are marked.
void mark_best(ReportColumn& column, Better better) {
  if (better == Better::kNone) return;
  std::optional<double> best;
  for (const ReportCell& cell : column.cells) {
    const double mean = cell.value.mean;
    if (!std::isnan(mean) && (!best || (better == Better::kLower ? mean < *best : mean > *best))) best = mean;
  }
  if (!best) return;
  const double shown = displayed_mean(*best, column.decimals);
  for (ReportCell& cell : column.cells) cell.best = displayed_mean(cell.value.mean, column.decimals) == shown;
}

// Rows are the methods with at least one of the columns' arrays; nothing when no column has any.
std::optional<ReportTable> make_table(ReportTable table, const std::vector<std::string>& methods,
                                      const std::vector<ColumnPlan>& plans,
                                      const BootstrapSettings& bootstrap) {
  std::vector<std::vector<std::optional<std::vector<double>>>> values(plans.size());
  std::vector<bool> has_row(methods.size(), false);
  for (std::size_t c = 0; c < plans.size(); ++c) {
    for (std::size_t m = 0; m < methods.size(); ++m) {
      values[c].push_back(ok_item_values(plans[c], methods[m]));
      if (values[c][m]) has_row[m] = true;
    }
  }
  for (std::size_t m = 0; m < methods.size(); ++m) {
    if (has_row[m]) table.methods.push_back(methods[m]);
  }
  if (table.methods.empty()) return std::nullopt;

  for (std::size_t c = 0; c < plans.size(); ++c) {
    ReportColumn column = plans[c].column;
    for (std::size_t m = 0; m < methods.size(); ++m) {
      if (!has_row[m]) continue;
      ReportCell cell;
      if (values[c][m]) {
        const std::string key =
            fmt::format("{}/{}/{}/{}", table.id, column.dataset, methods[m], column.metric);
        cell.value = bootstrap_mean(*values[c][m], bootstrap.samples, cell_seed(bootstrap.seed, key));
      }
      column.cells.push_back(cell);
    }
    mark_best(column, plans[c].better);
    table.columns.push_back(std::move(column));
  }
  return table;
}

}  // namespace

std::vector<std::string> sanity_stage_names(const ResultsData& data, const std::string& file, std::size_t stages) {
  std::vector<std::string> names = split_list(text_attribute(data, "sanity_stages"));
  if (names.size() == stages) return names;
  if (!names.empty())
    spdlog::warn("{}: sanity_stages names {} stages, the arrays have {}; numbering them", file, names.size(),
                 stages);
  names.clear();
  for (std::size_t s = 1; s <= stages; ++s) names.push_back(std::to_string(s));
  return names;
}

std::string text_attribute(const ResultsData& data, const std::string& key) {
  const auto it = data.text_attributes.find(key);
  return it == data.text_attributes.end() ? std::string() : it->second;
}

std::vector<std::pair<std::string, std::size_t>> items_by_status(const ResultsData& data) {
  std::map<int, std::size_t> by_code;
  for (const ItemRecord& item : data.items) ++by_code[static_cast<int>(item.status)];
  std::vector<std::pair<std::string, std::size_t>> counts;
  for (const auto& [code, count] : by_code)
    counts.emplace_back(item_status_name(static_cast<ItemStatus>(code)), count);
  return counts;
}

std::vector<ReportInput> load_report_inputs(const std::vector<std::string>& paths) {
  std::vector<ReportInput> inputs;
  // Files of different tasks never share a table, so a label only needs to be unique within its task; a
  // renamed label would change the cell keys, and so the intervals, of a file that collides with nothing.
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

namespace {

// Which tables a file feeds: its task's, from the task registry; none for a task this build does not know.
std::optional<TaskReport> task_report(const ReportInput& input) {
  const TaskInfo* task = find_task(input.task);
  return task ? std::optional<TaskReport>(task->report) : std::nullopt;
}

}  // namespace

std::vector<ReportTable> build_report_tables(const std::vector<ReportInput>& inputs,
                                             const BootstrapSettings& bootstrap) {
  for (const ReportInput& input : inputs) {
    if (!task_report(input))
      spdlog::warn("{}: task '{}' is not one this pixab knows; its arrays are not tabulated", input.path, input.task);
  }
  const std::vector<std::string> methods = method_order(inputs);
  std::vector<ReportTable> tables;
  const auto add = [&](ReportTable table, const std::vector<ColumnPlan>& plans) {
    if (auto made = make_table(std::move(table), methods, plans, bootstrap))
      tables.push_back(std::move(*made));
  };

  for (const NaturalTableSpec& spec : natural_table_specs()) {
    std::vector<ColumnPlan> plans;
    for (const MetricColumnSpec& metric : spec.metrics) {
      for (const ReportInput& input : inputs) {
        if (task_report(input) != TaskReport::kExplanationQuality || !has_array_named(input, "metrics", metric.metric))
          continue;
        const ReportColumn column{input.label,
                                  metric.metric,
                                  fmt::format("{} {}", metric.heading, input.label),
                                  metric.decimals,
                                  {}};
        plans.push_back({column, metric.better, &input, "metrics", metric.metric, 0, metric.scale});
      }
    }
    add({spec.id, spec.title, spec.note, {}, {}}, plans);
  }

  for (const ReportInput& input : inputs) {
    if (task_report(input) != TaskReport::kSanity) continue;
    for (const SanityMeasure& measure : kSanityMeasures) {
      std::size_t stages = 0;
      for (const auto& [path, array] : input.data.arrays) {
        const auto parsed = parse_array_path(path);
        if (parsed && parsed->group == "sanity" && parsed->name == measure.name && array.shape.size() == 2)
          stages = std::max<std::size_t>(stages, array.shape[1]);
      }
      if (stages == 0) continue;
      std::vector<ColumnPlan> plans;
      const std::vector<std::string> names = sanity_stage_names(input.data, input.path, stages);
      for (std::size_t s = 0; s < stages; ++s) {
        const ReportColumn column{input.label, fmt::format("{}/{}", measure.name, names[s]), names[s], 3, {}};
        plans.push_back({column, Better::kNone, &input, "sanity", measure.name, s, 1.0});
      }
      add({"sanity",
           fmt::format("Sanity check (Sec. 5.3, Fig. 11): {}, {}", measure.title, input.label),
           kSanityNote,
           {},
           {}},
          plans);
    }
  }
  return tables;
}

}  // namespace pixab
