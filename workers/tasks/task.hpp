// The task interface: what a kind of experiment adds to the common per-row work (read, preprocess, pick the
// target, run every CAM method, score every metric). The pipeline and the item processor know tasks only
// through it and the registry below; natural_task.hpp and sanity_task.* are the implementations.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/box.hpp"
#include "io/dataset.hpp"
#include "io/item_status.hpp"
#include "io/model.hpp"
#include "workers/adversarial/adversarial_settings.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/tasks/row_arrays.hpp"

namespace pixab {

// One row of the results file: a source item, and which of its rows this is. A task that makes several rows
// of one item (an image with k adversarial patches) gives them ids such as "<item id>#t<k>"; the ids depend
// only on the item and the configuration, so every rank and every attempt makes the same rows.
struct TaskRow {
  DatasetItem item;
  std::string id;
  int index = 0;               // 0 .. rows of the item - 1
  std::size_t item_index = 0;  // the item's position in the list it came from (the manifest's items)
};

// (method id, L [B,h,w]) of a batch, in method order.
using MethodMaps = std::vector<std::pair<std::string, torch::Tensor>>;
// (in-file path, [B, row shape...]) of a batch: what the item processor writes into the rows' arrays once the
// whole batch has succeeded.
using BatchArrays = std::vector<std::pair<std::string, torch::Tensor>>;

// What the methods gave for a batch, as a task sees it.
struct BatchResults {
  std::vector<const TaskRow*> rows;       // the batch's rows
  MethodMaps maps;                        // (method id, L [B,h,w]), in method order
  MethodMaps weights;                     // (method id, w [B,K]) of the methods with channel weights
  std::vector<std::vector<Box>> regions;  // each row's target region (boxes in model-input coordinates)
};

// A row the task refuses to explain (an attack that did not reach its target): its status and message.
struct RowFailure {
  ItemStatus status;
  std::string message;
};

// What a task makes of a batch of rows before the CAM methods run.
struct TaskBatch {
  torch::Tensor inputs;   // [B,C,H,W] the model inputs to explain
  torch::Tensor targets;  // [B] class indices; undefined: the run's choice (target = predicted or label)
  // [B] the clean inputs' top-1 and its probability, where the explained inputs are not the clean ones (the
  // results file's top1 is the clean prediction); undefined: the explained inputs' own
  torch::Tensor clean_top1, clean_top1_prob;
  std::vector<std::optional<std::vector<Box>>> regions;  // per row, or empty; nullopt: the annotation's boxes
  std::vector<std::optional<RowFailure>> failures;       // per row, or empty: refused rows are not explained
  BatchArrays arrays;  // the task's arrays known now, for every row of the batch (refused ones included)
};

// The settings tasks read (config keys: task, sanity.stages, seed, [adversarial]).
struct TaskSettings {
  int sanity_stages = 0;   // 0: one stage per parameter group of the model
  std::uint64_t seed = 0;  // of every random draw of a task
  AdversarialSettings adversarial;
};

// Which of `pixab report`'s tables a task's files feed, and which figures `pixab render` draws of them.
enum class TaskReport {
  kExplanationQuality,  // Tables 3-5 and localisation from /metrics; explanation figures and curves
  kSanity,              // the Spearman and SSIM tables from /sanity; the sanity grids
  kAdversarial,         // Tables 1, 2, 6 and 7-10 from /metrics (dap1, dap2)
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;

  // The rows of one source item, in order; the default is one row with the item's id.
  virtual std::vector<TaskRow> rows_of(const DatasetItem& item) const;

  // Declares the task's own per-row arrays for these methods (the methods' maps and the metrics are declared
  // by the item processor for every task).
  virtual void declare_arrays(const std::vector<std::string>& method_ids, ArraySpecs& specs) const;

  // What is explained for a batch of rows whose clean model inputs are `inputs` [B,C,H,W] (on the model's
  // device): an adversarial task attacks them and returns its examples, targets, regions and refusals; the
  // default explains the inputs as they are.
  virtual TaskBatch prepare_batch(const std::vector<const TaskRow*>& rows, torch::Tensor inputs) const;

  // The task's own arrays for a batch whose methods have run, each of a path it declared; the default adds
  // none.
  virtual BatchArrays batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& methods, CamBatch& batch,
                                   const BatchResults& results) const;

  // Arrays with one row per source item instead of per row (an AE2's image, shared by its rows): the results
  // file keeps the item's first row of each (row index 0) at the item's position.
  virtual std::vector<std::string> per_item_arrays() const { return {}; }

  // Text attributes the task records on the results file's root (the sanity check's stage names).
  virtual std::map<std::string, std::string> attributes() const { return {}; }
};

// What the registry knows of a task before one is made.
struct TaskInfo {
  std::string name;
  std::string summary;               // for `pixab run --help`
  bool every_metric_by_default;      // metrics = [] means every metric (else none)
  TaskReport report;
  bool needs_dataset = true;         // false: the task makes its own items (adversarial.count zero canvases)
};

// The tasks this build implements, in the order `--help` lists them.
const std::vector<TaskInfo>& implemented_tasks();

// The registry entry of `name`; nullptr when this build has no such task (a file from a newer pixab).
const TaskInfo* find_task(const std::string& name);

// ConfigError naming the implemented tasks for an unknown name, or for settings the model cannot satisfy.
std::unique_ptr<Task> make_task(const std::string& name, const Model& model, const TaskSettings& settings);

}  // namespace pixab
