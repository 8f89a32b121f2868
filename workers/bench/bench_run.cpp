// The timing loop of `pixab bench`: each method, then all of them on one batch (and with the metrics), timed
// batch by batch against the replay of the passes its registry entry declares; peak memory per row.
#include <ATen/Parallel.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>

#include "io/error.hpp"
#include "io/process_status.hpp"
#include "workers/bench/bench.hpp"
#include "workers/adversarial/attack.hpp"
#include "workers/adversarial/patches.hpp"
#include "workers/bench/pass_replay.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/metrics/metric_evaluator.hpp"
#include "workers/preprocess.hpp"

namespace pixab {
namespace {

// One batch as the item processor runs it: a CamBatch (features, the prediction's head pass), the top-1
// target, every method on the shared batch, and with an evaluator every metric of every method.
void run_methods(const Model& model, const std::vector<const CamMethod*>& methods, const torch::Tensor& x,
                 const MetricEvaluator* evaluator = nullptr) {
  BatchNeeds needs;
  for (const CamMethod* method : methods) needs.merge(method->spec().needs);
  CamBatch cams(model, x, needs);
  cams.set_targets(std::get<1>(cams.logits().max(1)));
  std::vector<std::string> ids;
  for (int64_t i = 0; i < x.size(0); ++i) ids.push_back("bench_" + std::to_string(i));
  cams.set_item_ids(std::move(ids));
  std::vector<std::pair<std::string, torch::Tensor>> maps;
  for (const CamMethod* method : methods) maps.emplace_back(method->id(), method->compute(cams).maps);
  if (!evaluator) return;
  // The target region is a centred box of half the input's size, so that the localisation metrics do their
  // whole work.
  const float w = static_cast<float>(x.size(3)), h = static_cast<float>(x.size(2));
  const std::vector<std::vector<Box>> boxes(static_cast<std::size_t>(x.size(0)),
                                            {Box{w / 4, h / 4, 3 * w / 4, 3 * h / 4}});
  evaluator->evaluate(cams, maps, boxes);
}

// Hands freed heap back to the system and restarts the peak RSS from the current RSS (Linux's clear_refs
// "5"), so the next peak is one method's. False where the kernel refuses: the peak is then the process's so
// far.
bool reset_peak_rss() {
  malloc_trim(0);
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5" << std::flush;
  return clear_refs.good();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Seeded random 8-bit RGB images at the model's input size, preprocessed as real images are, split into
// batches.
std::vector<torch::Tensor> synthetic_batches(const Model& model, const BenchOptions& options) {
  const ModelMeta& meta = model.meta();
  auto generator = at::detail::createCPUGenerator(options.seed);
  std::vector<torch::Tensor> inputs;
  for (int i = 0; i < options.images; ++i) {
    auto pixels = at::randint(0, 256, {meta.input_height, meta.input_width, 3}, generator, torch::kUInt8);
    const cv::Mat rgb(meta.input_height, meta.input_width, CV_8UC3, pixels.data_ptr());
    inputs.push_back(to_model_input(rgb, meta));
  }
  std::vector<torch::Tensor> batches;
  for (const auto& batch : torch::stack(inputs).split(options.batch_size)) {
    batches.push_back(batch.to(model.device()));
  }
  return batches;
}

// Times `work` per batch against `plan`, alternating the two on each batch so that both see the same machine
// load; then measures the peak memory in an untimed run of its own.
BenchRow measure(const std::string& id, const Model& model,
                 const std::function<void(const torch::Tensor&)>& work, const PassPlan& plan,
                 const std::vector<torch::Tensor>& batches, const BenchOptions& options,
                 bool& peak_rss_per_method) {
  const auto& device = model.device();
  const double images_per_batch = options.batch_size;
  for (int i = 0; i < options.warmup; ++i) {
    work(batches.front());
    time_passes(model, plan, batches.front());
  }
  std::vector<double> method_ms, limit_ms;
  for (const auto& x : batches) {
    method_ms.push_back(elapsed_ms(device, [&] { work(x); }) / images_per_batch);
    limit_ms.push_back(time_passes(model, plan, x) / images_per_batch);
  }
  BenchRow row;
  row.id = id;
  row.ms_per_image = median(method_ms);
  row.limit_ms = median(limit_ms);
  row.passes = count_passes(plan, options.batch_size);

  peak_rss_per_method = reset_peak_rss() && peak_rss_per_method;
  row.base_rss_mb = status_mb("VmRSS");
  work(batches.front());
  row.peak_rss_mb = status_mb("VmHWM");
  spdlog::info("bench {}: {:.3f} ms/image, limit {:.3f} ms, ratio {:.2f}, peak RSS {:.0f} MiB", id,
               row.ms_per_image, row.limit_ms, row.ratio(), row.peak_rss_mb);
  return row;
}

}  // namespace

BenchReport run_bench(const Model& model, const BenchOptions& options) {
  if (options.images < 1 || options.batch_size < 1 || options.images % options.batch_size != 0) {
    throw ConfigError("bench: images (" + std::to_string(options.images) +
                      ") must be a positive multiple of batch_size (" + std::to_string(options.batch_size) +
                      ")");
  }
  if (options.warmup < 0) throw ConfigError("bench: warmup must not be negative");
  const std::vector<std::string> ids = resolve_cam_method_names(options.methods, options.cams);
  const std::vector<std::unique_ptr<CamMethod>> methods = make_cam_methods(ids, options.cams);

  const std::vector<torch::Tensor> batches = synthetic_batches(model, options);
  BenchReport report;
  report.images = options.images;
  report.batch_size = options.batch_size;
  report.warmup = options.warmup;
  report.threads = at::get_num_threads();

  std::vector<const CamMethod*> all;
  PassPlan whole_plan;  // every method's own passes, after the CamBatch's (inserted below)
  for (const auto& method : methods) {
    const CamMethodSpec& spec = method->spec();
    const PassPlan own = spec.passes(method->id(), options.cams, model, options.batch_size);
    PassPlan plan = batch_passes(spec.needs, options.batch_size);
    plan.insert(plan.end(), own.begin(), own.end());
    for (const PassStep& step : own) {
      // Baselines are cached by the CamBatch: one per batch whichever methods ask for it.
      const bool cached = step.content == RowContent::kZeros &&
                          std::any_of(whole_plan.begin(), whole_plan.end(), [&](const PassStep& done) {
                            return done.content == RowContent::kZeros && done.kind == step.kind;
                          });
      if (!cached) whole_plan.push_back(step);
    }
    const CamMethod* one = method.get();
    report.methods.push_back(measure(
        method->id(), model, [&](const torch::Tensor& x) { run_methods(model, {one}, x); }, plan, batches,
        options, report.peak_rss_per_method));
    all.push_back(method.get());
  }
  const PassPlan shared = batch_passes(merged_needs(methods), options.batch_size);
  whole_plan.insert(whole_plan.begin(), shared.begin(), shared.end());
  report.whole_image = measure(
      "whole_image", model, [&](const torch::Tensor& x) { run_methods(model, all, x); }, whole_plan, batches,
      options, report.peak_rss_per_method);
  if (!options.metrics.metrics.empty()) {
    MetricSettings settings = options.metrics;
    settings.full_batch_size = options.cams.full_batch_size;
    const MetricEvaluator evaluator(model, settings);
    // The metric passes: forward passes over masked images, in the evaluator's batch size.
    PassPlan plan = whole_plan;
    plan.push_back({PassKind::kForward, RowContent::kPixelsMasked,
                    evaluator.forward_rows_per_image(static_cast<int64_t>(all.size())) * options.batch_size,
                    settings.full_batch_size});
    report.whole_image_metrics = measure(
        "whole_image_metrics", model, [&](const torch::Tensor& x) { run_methods(model, all, x, &evaluator); },
        plan, batches, options, report.peak_rss_per_method);
  }
  if (options.attack_steps > 0) {
    // A centred patch of 20% of each side, towards class 0 with a confidence no example reaches, so that every
    // example takes exactly attack_steps steps: a forward and a backward pass each, and the final check.
    const ModelMeta& meta = model.meta();
    const int side_h = std::max(1, meta.input_height / 5), side_w = std::max(1, meta.input_width / 5);
    const int top = (meta.input_height - side_h) / 2, left = (meta.input_width - side_w) / 2;
    const torch::Tensor masks = patch_masks({PatchRect{left, top, left + side_w, top + side_h}}, meta.input_height,
                                            meta.input_width)
                                    .expand({options.batch_size, 1, -1, -1})
                                    .to(model.device());
    const AttackSettings settings{2, 2.0, options.attack_steps};
    PassPlan plan(static_cast<std::size_t>(options.attack_steps),
                  {PassKind::kForwardWithBackward, RowContent::kInputs, options.batch_size, options.batch_size});
    plan.push_back({PassKind::kForward, RowContent::kInputs, options.batch_size, options.batch_size});
    report.adversarial_attack = measure(
        "adversarial_attack", model,
        [&](const torch::Tensor& x) {
          targeted_attack(model, model_input_to_levels(x, meta), masks,
                          torch::zeros({x.size(0)}, x.options().dtype(torch::kLong)), settings);
        },
        plan, batches, options, report.peak_rss_per_method);
  }
  if (!report.peak_rss_per_method) {
    spdlog::warn(
        "bench: this kernel does not let the process reset its peak RSS; peak_rss_mb is the process's peak "
        "so far, in the order of the rows");
  }
  return report;
}

}  // namespace pixab
