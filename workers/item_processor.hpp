// Per-item work: decode, preprocess, pick the target, run every CAM method on batches of images, and produce
// the rows of the results file. No MPI here: the pipeline hands it lists of items.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "io/model.hpp"
#include "io/results_file.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/metrics/metric_evaluator.hpp"
#include "workers/metrics/sanity.hpp"

namespace pixab {

struct ProcessOptions {
  std::vector<std::string> methods;  // CAM method ids, in output order
  std::string target =
      "predicted";      // "predicted": the model's top-1 on the clean input; "label": the dataset's
  int batch_size = 16;  // images per features pass
  CamSettings cams;
  bool store_weights = false;     // /weights/<method> [N,K] for methods with channel weights
  bool store_pixab_maps = false;  // /pixab/<method>/D and /R [N,h,w]
  MetricSettings metrics;         // /metrics/<method>/<metric> and /curves/<method>/...
  std::string task = "natural";   // "sanity": also the cascading randomisation, /sanity/<method>/...
  int sanity_stages = 0;          // 0: one stage per parameter group of the model
  std::uint64_t seed = 0;         // of the randomised parameters
};

// Per-item float arrays by in-file path ("maps/grad_cam"): every row has the same shape; failed items' rows
// are NaN.
struct ItemArrays {
  std::vector<std::uint64_t> row_shape;
  std::vector<float> values;  // rows * prod(row_shape)
};

struct ProcessedItems {
  std::vector<ItemRecord> records;
  std::map<std::string, ItemArrays> arrays;
  bool complete = true;  // false when keep_going stopped the work: the rows are then not all computed
};

class ItemProcessor {
 public:
  // ConfigError for unknown methods, metrics, tasks or target modes, target "label" on a dataset without
  // image-level labels, or a dataset whose classes cannot be matched to the model's.
  ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options);

  // Processes items in the given order. A bad item gets its status and message; it never stops the others.
  // keep_going, when given, is asked before each batch; once it says false, the rest is left undone and the
  // result is marked incomplete (a stop request must not wait for a whole list).
  ProcessedItems process(const std::vector<DatasetItem>& items,
                         const std::function<bool()>& keep_going = nullptr) const;

  // The names of the sanity check's stages (task "sanity"), else empty.
  std::vector<std::string> sanity_stage_names() const;

 private:
  struct Prepared;
  void run_batch(const std::vector<Prepared*>& batch, ProcessedItems& out) const;
  void run_batch_or_isolate(const std::vector<Prepared*>& batch, ProcessedItems& out) const;
  bool target_is_label() const { return options_.target == "label"; }
  // The arrays this configuration writes, by path, with their row shapes.
  std::map<std::string, std::vector<std::uint64_t>> array_layout() const;

  const Model& model_;
  const Dataset& dataset_;
  ProcessOptions options_;
  ClassMatcher classes_;  // the dataset's class names -> the model's class indices
  std::vector<std::unique_ptr<CamMethod>> methods_;
  BatchNeeds needs_;  // of the methods, for every CamBatch
  MetricEvaluator evaluator_;
  std::unique_ptr<SanityCheck> sanity_;  // task "sanity" only
};

}  // namespace pixab
