// The adversarial-patch tasks: draws, attacks, the examples' arrays and the DAP, DOA and COP figures.
#include "workers/tasks/adversarial_task.hpp"

#include <fmt/format.h>

#include <ATen/Context.h>

#include <limits>
#include <tuple>

#include "io/error.hpp"
#include "io/rng.hpp"
#include "workers/adversarial/examples.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/metrics/adversarial_metrics.hpp"
#include "workers/metrics/localisation.hpp"
#include "workers/preprocess.hpp"

namespace pixab {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr const char* kActivationCam = "activation_cam";

// COP ranks channels by weight: Activation-CAM's weights are all 1, so it has no 100 largest.
bool has_cop(const std::string& method_id) {
  const CamMethodSpec* spec = find_cam_method_spec(method_id);
  return method_id != kActivationCam && spec && spec->channel_weights;
}

std::string metric_path(const std::string& method_id, const std::string& metric) {
  return "metrics/" + method_id + "/" + metric;
}

}  // namespace

AdversarialTask::AdversarialTask(AdversarialKind kind, const Model& model, const TaskSettings& settings)
    : kind_(kind), model_(model), settings_(settings.adversarial), seed_(settings.seed) {
  const int task_kmin = kind_ == AdversarialKind::kAe1 ? 1 : 2;
  check_adversarial_settings(settings_, task_kmin);
  kmin_ = settings_.kmin > 0 ? settings_.kmin : task_kmin;
  attack_ = {alpha_levels(settings_.alpha), settings_.confidence, settings_.max_iters};
  // An AE2's rows may fall in different batches or chunks, each making the example again: on a GPU only
  // deterministic cuDNN kernels make them the same example (CPU kernels are deterministic).
  if (model_.device().is_cuda()) {
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  const int classes = model_.meta().num_classes;
  if (kind_ == AdversarialKind::kAe1 && classes < 2)
    throw ConfigError(fmt::format("task dap1: model {} has {} class; an attack needs a class other than the "
                                  "clean top-1", model_.path(), classes));
  if (kind_ == AdversarialKind::kAe2 && settings_.kmax > classes - 1)
    throw ConfigError(fmt::format(
        "task dap2: adversarial.kmax = {} patches need as many distinct classes other than the empty canvas's "
        "top-1, but model {} has {} classes; lower adversarial.kmax",
        settings_.kmax, model_.path(), classes));
}

AdversarialTask::Layout AdversarialTask::layout_of(const std::string& item_id) const {
  Layout layout{{}, PortableRng(item_seed(seed_, item_id))};
  const int count = static_cast<int>(layout.rng.between(kmin_, settings_.kmax));
  layout.patches = draw_patches(layout.rng, count, model_.meta().input_height, model_.meta().input_width,
                                settings_.size_min, settings_.size_max);
  return layout;
}

std::vector<std::int64_t> AdversarialTask::draw_targets(PortableRng& rng, std::int64_t clean_top1, int count) const {
  std::vector<std::int64_t> classes;
  for (std::int64_t c = 0; c < model_.meta().num_classes; ++c) {
    if (c != clean_top1) classes.push_back(c);
  }
  // A partial Fisher-Yates shuffle: the first `count` are distinct and uniform.
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
    std::swap(classes[i], classes[i + rng.below(classes.size() - i)]);
  classes.resize(static_cast<std::size_t>(count));
  return classes;
}

std::vector<TaskRow> AdversarialTask::rows_of(const DatasetItem& item) const {
  if (kind_ == AdversarialKind::kAe1) return Task::rows_of(item);
  // The patch count is the stream's first draw: known without placing the patches.
  PortableRng rng(item_seed(seed_, item.id));
  const int count = static_cast<int>(rng.between(kmin_, settings_.kmax));
  std::vector<TaskRow> rows;
  for (int i = 0; i < count; ++i) rows.push_back(TaskRow{item, fmt::format("{}#t{}", item.id, i), i});
  return rows;
}

void AdversarialTask::declare_arrays(const std::vector<std::string>& method_ids, ArraySpecs& specs) const {
  const auto patches = static_cast<std::uint64_t>(settings_.kmax);
  const auto height = static_cast<std::uint64_t>(model_.meta().input_height);
  const auto width = static_cast<std::uint64_t>(model_.meta().input_width);
  specs.add({"adversarial/patches", DType::kFloat32, {patches, 4}});
  specs.add({"adversarial/patch_count", DType::kInt32, {}, 0});
  specs.add({"adversarial/patch_classes", DType::kInt32, {patches}, -1});
  specs.add({"adversarial/attack_iters", DType::kInt32, {}, -1});
  specs.add({"adversarial/attack_prob", DType::kFloat32, {}});
  specs.add({"adversarial/region", DType::kInt32, {}, -1});
  specs.add({"adversarial/image", DType::kUInt8, {height, width, 3}, 0});
  specs.add({"adversarial/image_index", DType::kInt32, {}, -1});
  for (const std::string& id : method_ids) {
    specs.add({metric_path(id, metric_prefix() + "pointing_game"), DType::kFloat32, {}});
    specs.add({metric_path(id, metric_prefix() + "proportion"), DType::kFloat32, {}});
    if (kind_ == AdversarialKind::kAe1) continue;
    if (id != kActivationCam) specs.add({metric_path(id, "doa"), DType::kFloat32, {}});
    if (has_cop(id)) specs.add({metric_path(id, "cop"), DType::kFloat32, {}});
  }
}

// A batch's rows as the attacks fill them: each row's example, target, region, refusal and figures.
struct AdversarialTask::BatchRows {
  BatchRows(const std::vector<const TaskRow*>& rows, const torch::Tensor& levels, int64_t max_patches)
      : examples(rows.size()),
        targets(rows.size(), -1),
        patch_boxes(torch::full({static_cast<int64_t>(rows.size()), max_patches, 4}, kNaN)),
        patch_count(torch::zeros({static_cast<int64_t>(rows.size())}, torch::kInt)),
        patch_classes(torch::full({static_cast<int64_t>(rows.size()), max_patches}, -1, torch::kInt)),
        iterations(torch::full({static_cast<int64_t>(rows.size())}, -1, torch::kInt)),
        attack_prob(torch::full({static_cast<int64_t>(rows.size())}, kNaN)),
        region(torch::full({static_cast<int64_t>(rows.size())}, -1, torch::kInt)),
        image_index(torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt)) {
    regions.resize(rows.size());
    failures.resize(rows.size());
    // A row that is not attacked (its patches cannot be placed) keeps its clean input.
    for (std::size_t b = 0; b < rows.size(); ++b) {
      examples[b] = levels[static_cast<int64_t>(b)];
      image_index[static_cast<int64_t>(b)] = static_cast<int>(rows[b]->item_index);
    }
  }

  // The row's patches and their classes (one class for all of them: AE1's target).
  void record_layout(std::size_t row, const std::vector<PatchRect>& patches, const std::vector<std::int64_t>& classes) {
    const auto b = static_cast<int64_t>(row);
    patch_count[b] = static_cast<int>(patches.size());
    for (std::size_t p = 0; p < patches.size(); ++p) {
      const Box box = patches[p].box();
      patch_boxes[b][static_cast<int64_t>(p)] = torch::tensor({box.x1, box.y1, box.x2, box.y2});
      patch_classes[b][static_cast<int64_t>(p)] = static_cast<int>(classes[classes.size() == 1 ? 0 : p]);
    }
  }
  void record_attack(std::size_t row, const Examples& attacked, std::size_t example) {
    iterations[static_cast<int64_t>(row)] = attacked.iterations[example];
    attack_prob[static_cast<int64_t>(row)] = attacked.target_prob[example];
    if (!attacked.failure[example].empty()) fail(row, attacked.failure[example]);
  }
  void fail(std::size_t row, const std::string& message) {
    failures[row] = RowFailure{ItemStatus::kAttackFailed, message};
  }

  TaskBatch finish(const ModelMeta& meta) {
    const torch::Tensor example_levels = torch::stack(examples);
    TaskBatch out;
    out.inputs = levels_to_model_input(example_levels, meta);
    out.targets = torch::tensor(targets, torch::kLong);
    out.regions = std::move(regions);
    out.failures = std::move(failures);
    out.arrays = {{"adversarial/patches", patch_boxes},
                  {"adversarial/patch_count", patch_count},
                  {"adversarial/patch_classes", patch_classes},
                  {"adversarial/attack_iters", iterations},
                  {"adversarial/attack_prob", attack_prob},
                  {"adversarial/region", region},
                  {"adversarial/image", example_levels.permute({0, 2, 3, 1}).to(torch::kUInt8)},
                  {"adversarial/image_index", image_index}};
    return out;
  }

  std::vector<torch::Tensor> examples;  // [C,H,W] levels per row
  std::vector<std::int64_t> targets;
  std::vector<std::optional<std::vector<Box>>> regions;
  std::vector<std::optional<RowFailure>> failures;
  torch::Tensor patch_boxes, patch_count, patch_classes, iterations, attack_prob, region, image_index;
};

TaskBatch AdversarialTask::prepare_batch(const std::vector<const TaskRow*>& rows, torch::Tensor inputs) const {
  const torch::Tensor levels = model_input_to_levels(inputs, model_.meta());
  torch::Tensor clean_top1, clean_top1_prob;
  {
    torch::NoGradGuard no_grad;
    std::tie(clean_top1_prob, clean_top1) = torch::softmax(model_.forward(inputs), 1).max(1);
    clean_top1 = clean_top1.cpu();
  }
  BatchRows batch(rows, levels, settings_.kmax);
  if (kind_ == AdversarialKind::kAe1) {
    make_ae1_rows(rows, levels, clean_top1, batch);
  } else {
    make_ae2_rows(rows, clean_top1, batch);
  }
  TaskBatch out = batch.finish(model_.meta());
  out.clean_top1 = clean_top1;
  out.clean_top1_prob = clean_top1_prob;
  return out;
}

void AdversarialTask::make_ae1_rows(const std::vector<const TaskRow*>& rows, const torch::Tensor& levels,
                                    const torch::Tensor& clean_top1, BatchRows& batch) const {
  // All images of the batch are attacked together; an image whose patches cannot be placed is left out.
  const ModelMeta& meta = model_.meta();
  std::vector<int64_t> attacked;
  std::vector<torch::Tensor> masks;
  for (std::size_t b = 0; b < rows.size(); ++b) {
    try {
      Layout layout = layout_of(rows[b]->item.id);
      batch.targets[b] = draw_targets(layout.rng, clean_top1[static_cast<int64_t>(b)].item<int64_t>(), 1).front();
      batch.record_layout(b, layout.patches, {batch.targets[b]});
      std::vector<Box>& region = batch.regions[b].emplace();  // the union of the patches
      for (const PatchRect& patch : layout.patches) region.push_back(patch.box());
      masks.push_back(patch_masks(layout.patches, meta.input_height, meta.input_width).amax(0));
      attacked.push_back(static_cast<int64_t>(b));
    } catch (const ItemError& e) {
      batch.fail(b, e.what());
    }
  }
  if (attacked.empty()) return;
  const auto device = levels.device();
  const torch::Tensor index = torch::tensor(attacked, torch::kLong).to(device);
  std::vector<std::int64_t> targets;
  for (const int64_t b : attacked) targets.push_back(batch.targets[static_cast<std::size_t>(b)]);
  const Examples ae1 = make_ae1(model_, levels.index_select(0, index), torch::stack(masks).to(device),
                                torch::tensor(targets, torch::kLong).to(device), attack_);
  for (std::size_t r = 0; r < attacked.size(); ++r) {
    const auto b = static_cast<std::size_t>(attacked[r]);
    batch.examples[b] = ae1.levels[static_cast<int64_t>(r)];
    batch.record_attack(b, ae1, r);
  }
}

void AdversarialTask::make_ae2_rows(const std::vector<const TaskRow*>& rows, const torch::Tensor& clean_top1,
                                    BatchRows& batch) const {
  // Each AE2 is made once for its rows in the batch, its k patches attacked as one batch of k canvases.
  const ModelMeta& meta = model_.meta();
  const auto device = model_.device();
  for (std::size_t first = 0; first < rows.size();) {
    std::size_t end = first;
    while (end < rows.size() && rows[end]->item.id == rows[first]->item.id) ++end;
    try {
      Layout layout = layout_of(rows[first]->item.id);
      const std::vector<std::int64_t> classes = draw_targets(
          layout.rng, clean_top1[static_cast<int64_t>(first)].item<int64_t>(), static_cast<int>(layout.patches.size()));
      const Examples patches =
          make_ae2_patches(model_, patch_masks(layout.patches, meta.input_height, meta.input_width).to(device),
                           torch::tensor(classes, torch::kLong).to(device), attack_);
      const torch::Tensor ae2 = combine_canvases(patches.levels);
      for (std::size_t b = first; b < end; ++b) {
        // A row is its patch's: the patches that reached their classes are explained even when another did
        // not (that one stays in the AE2, attacked towards its class).
        const auto patch = static_cast<std::size_t>(rows[b]->index);
        batch.examples[b] = ae2;
        batch.targets[b] = classes[patch];
        batch.record_layout(b, layout.patches, classes);
        batch.region[static_cast<int64_t>(b)] = rows[b]->index;
        batch.regions[b] = std::vector<Box>{layout.patches[patch].box()};
        batch.record_attack(b, patches, patch);
      }
    } catch (const ItemError& e) {
      for (std::size_t b = first; b < end; ++b) batch.fail(b, e.what());
    }
    first = end;
  }
}

BatchArrays AdversarialTask::batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& /*methods*/,
                                          CamBatch& batch, const BatchResults& results) const {
  const int64_t rows = batch.inputs().size(0), height = batch.inputs().size(2), width = batch.inputs().size(3);
  std::vector<cv::Mat> regions;
  for (const auto& boxes : results.regions)
    regions.push_back(target_region(boxes, static_cast<int>(height), static_cast<int>(width)));

  BatchArrays out;
  for (const auto& [id, maps] : results.maps) {
    const torch::Tensor explanations =
        minmax_normalise(upsample(maps, height, width)).to(torch::kCPU, torch::kFloat).contiguous();
    torch::Tensor hits = torch::empty({rows}), shares = torch::empty({rows});
    for (int64_t b = 0; b < rows; ++b) {
      const cv::Mat e(static_cast<int>(height), static_cast<int>(width), CV_32FC1, explanations[b].data_ptr<float>());
      hits[b] = pointing_game(e, regions[static_cast<std::size_t>(b)], 0.0);
      shares[b] = proportion(e, regions[static_cast<std::size_t>(b)]);
    }
    out.emplace_back(metric_path(id, metric_prefix() + "pointing_game"), hits);
    out.emplace_back(metric_path(id, metric_prefix() + "proportion"), shares);
  }
  if (kind_ == AdversarialKind::kAe1) return out;

  // DOA against Activation-CAM's maps, computed here when it is not one of the run's methods.
  torch::Tensor activation_maps;
  for (const auto& [id, maps] : results.maps) {
    if (id == kActivationCam) activation_maps = maps;
  }
  if (!activation_maps.defined()) activation_maps = make_cam_method(kActivationCam)->compute(batch).maps;
  for (const auto& [id, maps] : results.maps) {
    if (id != kActivationCam) out.emplace_back(metric_path(id, "doa"), activation_dependency(maps, activation_maps));
  }

  // COP: each row's AE2 layout (drawn again from its stream), and its patch as the target.
  std::vector<torch::Tensor> masks;
  for (const auto& [id, weights] : results.weights) {
    if (!has_cop(id)) continue;
    for (std::size_t r = masks.size(); r < results.rows.size(); ++r) {
      masks.push_back(patch_masks(layout_of(results.rows[r]->item.id).patches, static_cast<int>(height),
                                  static_cast<int>(width))
                          .squeeze(1));
    }
    torch::Tensor counts = torch::empty({rows});
    for (int64_t b = 0; b < rows; ++b) {
      const auto r = static_cast<std::size_t>(b);
      counts[b] = overestimated_channels(batch.activations()[b], weights[b], masks[r], results.rows[r]->index,
                                         settings_.cop_threshold);
    }
    out.emplace_back(metric_path(id, "cop"), counts);
  }
  return out;
}

}  // namespace pixab
