// Builds the report's tables: rows, columns, each cell's mean and bootstrap interval, the best marks.
#include "pipeline/report_tables.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <variant>

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

// The rows of a Pixab-CAM design-study table (Appendix B): the variants of the files' `pixab_variants` with
// one ablation box (or, `combined_boxes`, two or more) and these terms.
struct VariantRows {
  bool combined_boxes;
  PixabSettings::Terms terms;
};

// A table of /metrics arrays: one column per (metric, file of the task kind it reads).
struct MetricTableSpec {
  const char* id;
  const char* title;
  std::string note;
  TaskReport reads;
  std::vector<MetricColumnSpec> metrics;
  std::optional<VariantRows> variants;  // nothing: every method is a row
};

// The footnote of a table with marked columns (mark_best); `direction` says which way is better.
std::string best_note(const std::string& direction) {
  return "In bold: the best mean of each column (" + direction +
         ") and every other mean shown with the same digits.";
}

constexpr const char* kCompactnessNote =
    " Compactness is not marked: the paper argues that neither the smallest nor the largest map is ideal, "
    "but one that covers the target compactly.";

// Tables 6-10: the pointing game and OL on DAP1 and DAP2.
const std::vector<MetricColumnSpec> kDapColumns{
    {"dap1_pointing_game", "DAP1 PG (%)", 100, 2, Better::kHigher},
    {"dap1_proportion", "DAP1 OL (%)", 1, 2, Better::kHigher},
    {"dap2_pointing_game", "DAP2 PG (%)", 100, 2, Better::kHigher},
    {"dap2_proportion", "DAP2 OL (%)", 1, 2, Better::kHigher}};

// In paper order; the localisation table, not the paper's, after Table 5.
const std::vector<MetricTableSpec>& metric_table_specs() {
  using Terms = PixabSettings::Terms;
  static const std::vector<MetricTableSpec> specs{
      {"table1",
       "Table 1: Channels with overestimated pixels (COP)",
       best_note("lower"),
       TaskReport::kAdversarial,
       {{"cop", "COP", 1, 2, Better::kLower}},
       std::nullopt},
      {"table2",
       "Table 2: Dependency on the activation tensor (DOA)",
       best_note("higher: a low DOA means the map copies the activation tensor"),
       TaskReport::kAdversarial,
       {{"doa", "DOA", 1, 3, Better::kHigher}},
       std::nullopt},
      {"table3",
       "Table 3: AD, IIC and Compactness",
       best_note("AD lower, IIC higher") + kCompactnessNote,
       TaskReport::kExplanationQuality,
       {{"average_drop", "AD (%)", 1, 2, Better::kLower},
        {"increase_in_confidence", "IIC (%)", 100, 2, Better::kHigher},
        {"compactness", "Compactness", 1, 3, Better::kNone}},
       std::nullopt},
      {"table4",
       "Table 4: Deletion and Insertion AUC",
       best_note("Deletion lower, Insertion higher"),
       TaskReport::kExplanationQuality,
       {{"deletion_auc", "Deletion", 1, 3, Better::kLower},
        {"insertion_auc", "Insertion", 1, 3, Better::kHigher}},
       std::nullopt},
      {"table5",
       "Table 5: Object localisation (OL, proportion)",
       best_note("higher"),
       TaskReport::kExplanationQuality,
       {{"proportion", "OL (%)", 1, 2, Better::kHigher}},
       std::nullopt},
      {"localisation",
       "Localisation: pointing game, box IoU, correct localisation (not a paper table)",
       best_note("higher"),
       TaskReport::kExplanationQuality,
       {{"pointing_game", "PG (%)", 100, 2, Better::kHigher},
        {"loc_iou", "IoU", 1, 3, Better::kHigher},
        {"loc_correct", "Loc. correct (%)", 100, 2, Better::kHigher}},
       std::nullopt},
      {"table6", "Table 6: DAP1 and DAP2", best_note("higher"), TaskReport::kAdversarial, kDapColumns,
       std::nullopt},
      {"table7", "Table 7: Pixab-CAM, each ablation box alone, deletion term", best_note("higher"),
       TaskReport::kAdversarial, kDapColumns, VariantRows{false, Terms::kDeletion}},
      {"table8", "Table 8: Pixab-CAM, each ablation box alone, preservation term", best_note("higher"),
       TaskReport::kAdversarial, kDapColumns, VariantRows{false, Terms::kPreservation}},
      {"table9", "Table 9: Pixab-CAM, each ablation box alone, both terms", best_note("higher"),
       TaskReport::kAdversarial, kDapColumns, VariantRows{false, Terms::kBoth}},
      {"table10", "Table 10: Pixab-CAM, combinations of ablation boxes, both terms", best_note("higher"),
       TaskReport::kAdversarial, kDapColumns, VariantRows{true, Terms::kBoth}},
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
      if (tabulated_rank(path)) in_arrays.insert(parse_method_array_path(path)->method);
    }
  }
  for (const std::string& method : in_arrays) add(method);
  return order;
}

bool has_array_named(const ReportInput& input, const std::string& group, const std::string& name) {
  return std::any_of(input.data.arrays.begin(), input.data.arrays.end(), [&](const auto& entry) {
    const auto parsed = parse_method_array_path(entry.first);
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
  const TypedArray& array = it->second;
  const std::size_t row_size = array.shape.size() > 1 ? array.shape[1] : 1;
  if (plan.index >= row_size) return std::nullopt;
  const std::vector<ItemRecord>& items = plan.input->data.items;
  std::vector<double> values;
  // Metrics are float32 today; any element type of the schema tabulates the same way.
  std::visit(
      [&](const auto& elements) {
        for (std::size_t row = 0; row < items.size(); ++row) {
          if (items[row].status == ItemStatus::kOk)
            values.push_back(plan.scale * static_cast<double>(elements[row * row_size + plan.index]));
        }
      },
      array.values);
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

namespace {

// Which tables a file feeds: its task's, from the task registry; none for a task this build does not know.
std::optional<TaskReport> task_report(const ReportInput& input) {
  const TaskInfo* task = find_task(input.task);
  return task ? std::optional<TaskReport>(task->report) : std::nullopt;
}

using PixabVariants = std::vector<std::pair<std::string, PixabSettings>>;

// The boxes of each Pixab-CAM variant that the files of kind `reads` list (`variants`: each input's) with
// `rows`' boxes and terms, as "1x1,2x2" (the first file that lists a method names its boxes).
std::map<std::string, std::string> variants_of(const std::vector<ReportInput>& inputs,
                                               const std::vector<PixabVariants>& variants, TaskReport reads,
                                               const VariantRows& rows) {
  std::map<std::string, std::string> boxes_by_method;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (task_report(inputs[i]) != reads) continue;
    for (const auto& [method, settings] : variants[i]) {
      if (settings.boxes.empty() || settings.terms != rows.terms ||
          (settings.boxes.size() >= 2) != rows.combined_boxes)
        continue;
      std::vector<std::string> boxes;
      for (const auto& [height, width] : settings.boxes) boxes.push_back(fmt::format("{}x{}", height, width));
      boxes_by_method.emplace(method, fmt::format("{}", fmt::join(boxes, ",")));
    }
  }
  return boxes_by_method;
}

}  // namespace

std::vector<ReportTable> build_report_tables(const std::vector<ReportInput>& inputs,
                                             const BootstrapSettings& bootstrap) {
  for (const ReportInput& input : inputs) {
    if (!task_report(input))
      spdlog::warn("{}: task '{}' is not one this pixab knows; its arrays are not tabulated", input.path,
                   input.task);
  }
  const std::vector<std::string> methods = method_order(inputs);
  std::vector<ReportTable> tables;
  const auto add = [&](ReportTable table, const std::vector<ColumnPlan>& plans) {
    if (auto made = make_table(std::move(table), methods, plans, bootstrap))
      tables.push_back(std::move(*made));
  };

  // Parsed once, so that a bad line is reported once, and only where a variant table reads them.
  std::vector<PixabVariants> variants;
  for (const ReportInput& input : inputs)
    variants.push_back(task_report(input) == TaskReport::kAdversarial ? pixab_variants(input)
                                                                      : PixabVariants{});
  for (const MetricTableSpec& spec : metric_table_specs()) {
    std::vector<ColumnPlan> plans;
    for (const MetricColumnSpec& metric : spec.metrics) {
      for (const ReportInput& input : inputs) {
        if (task_report(input) != spec.reads || !has_array_named(input, "metrics", metric.metric)) continue;
        const ReportColumn column{input.label,
                                  metric.metric,
                                  fmt::format("{} {}", metric.heading, input.label),
                                  metric.decimals,
                                  {}};
        plans.push_back({column, metric.better, &input, "metrics", metric.metric, 0, metric.scale});
      }
    }
    if (!spec.variants) {
      add({spec.id, spec.title, spec.note, {}, {}}, plans);
      continue;
    }
    const std::map<std::string, std::string> boxes =
        variants_of(inputs, variants, spec.reads, *spec.variants);
    std::vector<std::string> rows;
    std::copy_if(methods.begin(), methods.end(), std::back_inserter(rows),
                 [&boxes](const std::string& method) { return boxes.count(method) > 0; });
    auto made = make_table({spec.id, spec.title, spec.note, {}, {}}, rows, plans, bootstrap);
    if (!made) continue;
    // The method ids name the variants as configured; the note says which boxes each one ablates.
    std::vector<std::string> named;
    for (const std::string& method : made->methods) named.push_back(method + " " + boxes.at(method));
    made->note += fmt::format(" Ablation boxes (height x width, grid cells): {}.", fmt::join(named, "; "));
    tables.push_back(std::move(*made));
  }

  for (const ReportInput& input : inputs) {
    if (task_report(input) != TaskReport::kSanity) continue;
    for (const SanityMeasure& measure : kSanityMeasures) {
      std::size_t stages = 0;
      for (const auto& [path, array] : input.data.arrays) {
        const auto parsed = parse_method_array_path(path);
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
