// Per-row work common to every task: read and preprocess each source item once, pick the target, run every CAM
// method on batches of rows, score the metrics, let the task add its own, and fill the rows' arrays from
// their declarations. No MPI here: the pipeline hands it lists of rows.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "io/model.hpp"
#include "io/results_file.hpp"
#include "io/typed_array.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/metrics/metric_evaluator.hpp"
#include "workers/tasks/row_arrays.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

struct ProcessOptions {
  std::vector<std::string> methods;  // CAM method ids, in output order
  // "predicted": the model's top-1 on the clean input; "label": the dataset's image-level label; else one class
  // (its index or label) for every row
  std::string target = "predicted";
  int batch_size = 16;  // rows per features pass
  CamSettings cams;
  bool store_weights = false;     // /weights/<method> [N,K] for methods with channel weights
  bool store_pixab_maps = false;  // /pixab/<method>/D and /R [N,h,w]
  MetricSettings metrics;         // /metrics/<method>/<metric> and /curves/<method>/...
  std::string task = "natural";   // a name from implemented_tasks()
  TaskSettings task_settings;
};

struct ProcessedItems {
  std::vector<ItemRecord> records;            // one per row
  std::map<std::string, TypedArray> arrays;   // by in-file path: [rows, row shape...], failed rows at their fill
  bool complete = true;  // false when keep_going stopped the work: the rows are then not all computed
};

// Whether an exception raised while a batch went through the model and the methods is the batch's data
// failing in the model (TorchScript raising, a kernel refusing its values or shapes, memory running out for
// it). Such a failure is the item's (model_error) once the batch is narrowed down to one item. Anything else
// (pixab's own errors, std::logic_error and the other bugs, a CUDA error that leaves the device unusable) is
// not about the items and ends the job.
bool is_item_model_failure(const std::exception& error);

class ItemProcessor {
 public:
  // ConfigError for unknown methods, metrics, tasks or target modes, target "label" on a dataset without
  // image-level labels, or a dataset whose classes cannot be matched to the model's.
  ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options);
  // With a task made by the caller instead of options.task (a task outside the registry: a library user's own
  // experiment, or a test's); nullptr: options.task from the registry.
  ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options, std::unique_ptr<Task> task);

  const Task& task() const { return *task_; }
  // Every per-row array this configuration writes: the results file's layout.
  const ArraySpecs& array_specs() const { return specs_; }

  // The task's rows of these items, in item order.
  std::vector<TaskRow> rows_of(const std::vector<DatasetItem>& items) const;

  // Processes rows in the given order; an item is read once for its consecutive rows, one batch at a time. A
  // bad item gets its status and message on each of its rows; it never stops the others. keep_going, when
  // given, is asked before each batch; once it says false, the rest is left undone and the result is marked
  // incomplete (a stop request must not wait for a whole list). A model pass stopped by the caller's
  // interruption check (ScopedInterruptionCheck, io/interruption.hpp) does the same to the batch in hand, so that
  // a stop need not wait for a batch of a large model either.
  ProcessedItems process(const std::vector<TaskRow>& rows, const std::function<bool()>& keep_going = nullptr) const;
  ProcessedItems process(const std::vector<DatasetItem>& items,
                         const std::function<bool()>& keep_going = nullptr) const {
    return process(rows_of(items), keep_going);
  }

 private:
  struct Prepared;
  void prepare(const TaskRow& row, ItemRecord& record, Prepared& prepared) const;
  void run_batch(const std::vector<Prepared*>& batch, ProcessedItems& out, RowArrays& arrays) const;
  // The explained rows' arrays and results (top-1, target, probabilities, flags, boxes), not yet written.
  struct ExplainedRows {
    BatchArrays arrays;
    std::vector<ItemRecord> records;
  };
  // Runs every method and metric on the rows' inputs [B,C,H,W]; targets: the task's, or undefined for the
  // run's choice; regions: the task's target regions (empty, or nullopt for a row: the annotation's boxes).
  ExplainedRows explain(const std::vector<const Prepared*>& batch, torch::Tensor inputs, torch::Tensor targets,
                        const std::vector<std::optional<std::vector<Box>>>& regions) const;
  void run_batch_or_isolate(const std::vector<Prepared*>& batch, ProcessedItems& out, RowArrays& arrays) const;
  bool target_is_label() const { return options_.target == "label"; }

  const Model& model_;
  const Dataset& dataset_;
  ProcessOptions options_;
  ClassMatcher classes_;  // the dataset's class names -> the model's class indices
  int fixed_target_ = -1;  // target = one class (by index or label) for every row; -1: predicted or label
  std::vector<std::unique_ptr<CamMethod>> methods_;
  BatchNeeds needs_;  // of the methods, for every CamBatch
  MetricEvaluator evaluator_;
  std::unique_ptr<Task> task_;
  ArraySpecs specs_;
};

}  // namespace pixab
