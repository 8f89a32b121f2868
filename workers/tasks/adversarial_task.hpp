// The adversarial-patch tasks (metrics.md "Adversarial examples", "Adversarial figures"): dap1 explains each
// dataset image with adversarial patches pasted in (AE1), one row per image; dap2 explains zero canvases
// holding only patches (AE2), one row per patch. Every draw comes from the item's own stream, seeded by
// (seed, item id).
#pragma once

#include <string>
#include <vector>

#include "workers/adversarial/adversarial_settings.hpp"
#include "workers/adversarial/attack.hpp"
#include "workers/adversarial/patches.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

enum class AdversarialKind { kAe1, kAe2 };

class AdversarialTask : public Task {
 public:
  // ConfigError for settings out of range, or (dap2) more patches than the model has classes to give them
  // distinct targets.
  AdversarialTask(AdversarialKind kind, const Model& model, const TaskSettings& settings);

  std::string name() const override { return kind_ == AdversarialKind::kAe1 ? "dap1" : "dap2"; }
  std::vector<TaskRow> rows_of(const DatasetItem& item) const override;
  void declare_arrays(const std::vector<std::string>& method_ids, ArraySpecs& specs) const override;
  TaskBatch prepare_batch(const std::vector<const TaskRow*>& rows, torch::Tensor inputs) const override;
  BatchArrays batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& methods, CamBatch& batch,
                           const BatchResults& results) const override;
  std::vector<std::string> per_item_arrays() const override { return {"adversarial/image"}; }

 private:
  // An item's draws before the model is asked anything: how many patches and where.
  struct Layout {
    std::vector<PatchRect> patches;
    PortableRng rng;  // where the item's stream continues (the targets)
  };
  Layout layout_of(const std::string& item_id) const;
  struct BatchRows;
  // The rows' examples: AE1s of the batch's images, attacked together; each AE2 of the batch once.
  void make_ae1_rows(const std::vector<const TaskRow*>& rows, const torch::Tensor& levels,
                     const torch::Tensor& clean_top1, BatchRows& batch) const;
  void make_ae2_rows(const std::vector<const TaskRow*>& rows, const torch::Tensor& clean_top1, BatchRows& batch) const;
  // Targets drawn uniformly among the classes other than `clean_top1`: one for AE1, `count` distinct for AE2.
  std::vector<std::int64_t> draw_targets(PortableRng& rng, std::int64_t clean_top1, int count) const;
  std::string metric_prefix() const { return kind_ == AdversarialKind::kAe1 ? "dap1_" : "dap2_"; }

  AdversarialKind kind_;
  const Model& model_;
  AdversarialSettings settings_;
  std::uint64_t seed_;
  int kmin_;
  AttackSettings attack_;
};

}  // namespace pixab
