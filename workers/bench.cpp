// Timing of the CAM methods against the model passes they need: the passes are derived from each method's
// settings, replayed alone on inputs of the same shapes for the limit, and counted per image.
#include "workers/bench.hpp"

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <torch/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "io/error.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/cams/pixab_cam.hpp"
#include "workers/metrics/metric_evaluator.hpp"
#include "workers/preprocess.hpp"

namespace pixab {
namespace {

enum class PassKind { kFeatures, kHead, kHeadWithBackward, kForward };

// What the rows of a pass hold. The limit feeds the model the values the method feeds it: a forward pass over
// 64 copies of one image was measured ~20% faster than over 64 differently masked images, so copies would
// flatter the limit (docs/performance.md).
enum class RowContent {
  kInputs,            // x
  kActivations,       // A
  kZeros,             // x_b = 0 or 0_A: a baseline, one row per batch, cached by the CamBatch
  kChannelMasked,     // x * s(U(A^k)) for row (image, k): Score-CAM
  kChannelAblated,    // A with channel k zeroed for row (image, k): Ablation-CAM
  kPlacementKept,     // A * M_P for row (image, P): Pixab-CAM's preservation
  kPlacementRemoved,  // A * (1 - M_P): Pixab-CAM's deletion
  kPixelsMasked,      // x with about half its pixels zeroed: the metrics' masked, deletion and insertion inputs
};

// `rows` rows through one model method, in calls of at most `chunk` rows, as a method makes them for one
// batch.
struct PassStep {
  PassKind kind;
  RowContent content;
  int64_t rows;
  int64_t chunk;
  torch::Tensor placement_masks = {};  // M_P [P,h,w] on the model's device, for the placement contents
};
using PassPlan = std::vector<PassStep>;

// Every batch's share of the CamBatch: features, and the head pass that gives the prediction (the target),
// with its graph and the one backward pass when a gradient method runs.
PassPlan shared_passes(int64_t images, bool gradients) {
  return {
      {PassKind::kFeatures, RowContent::kInputs, images, images},
      {gradients ? PassKind::kHeadWithBackward : PassKind::kHead, RowContent::kActivations, images, images}};
}

const PixabSettings& pixab_settings_of(const std::string& id, const CamSettings& settings) {
  const std::string variant_prefix = "pixab_cam@";
  if (id.rfind(variant_prefix, 0) == 0) {
    for (const auto& [name, variant] : settings.variants) {
      if (variant_prefix + name == id) return variant;
    }
  }
  return settings.pixab;
}

// The passes a method makes beyond the shared ones (methods.md, "Sharing work"), from its settings. A method
// this table does not know is an error rather than a plan of zero passes, which would report a meaningless
// limit.
PassPlan own_passes(const std::string& id, const CamSettings& settings, const Model& model, int64_t images) {
  const int64_t channels = model.feature_channels();
  if (id == "activation_cam" || id == "grad_cam" || id == "grad_cam_pp" || id == "xgrad_cam") return {};
  if (id == "score_cam") {
    return {{PassKind::kForward, RowContent::kChannelMasked, images * channels, settings.full_batch_size},
            {PassKind::kForward, RowContent::kZeros, 1, 1}};
  }
  if (id == "ablation_cam") {
    return {{PassKind::kHead, RowContent::kChannelAblated, images * channels, settings.head_batch_size}};
  }
  if (id == "pixab_cam" || id.rfind("pixab_cam@", 0) == 0) {
    const PixabSettings& pixab = pixab_settings_of(id, settings);
    const auto masks =
        PixabCam::placements(pixab, model.grid_height(), model.grid_width()).masks.to(model.device());
    const int64_t rows = images * masks.size(0);
    PassPlan plan;
    if (pixab.terms != PixabSettings::Terms::kPreservation) {
      plan.push_back({PassKind::kHead, RowContent::kPlacementRemoved, rows, settings.head_batch_size, masks});
    }
    if (pixab.terms != PixabSettings::Terms::kDeletion) {
      plan.push_back({PassKind::kHead, RowContent::kPlacementKept, rows, settings.head_batch_size, masks});
      plan.push_back({PassKind::kHead, RowContent::kZeros, 1, 1});
    }
    return plan;
  }
  throw Error("bench: no pass plan for CAM method '" + id + "'");
}

PassCounts count_passes(const PassPlan& plan, int64_t images) {
  PassCounts counts;
  for (const PassStep& step : plan) {
    const double per_image = static_cast<double>(step.rows) / static_cast<double>(images);
    switch (step.kind) {
      case PassKind::kFeatures:
        counts.features += per_image;
        break;
      case PassKind::kHeadWithBackward:
        counts.backward += per_image;
        [[fallthrough]];
      case PassKind::kHead:
        counts.head += per_image;
        break;
      case PassKind::kForward:
        counts.forward += per_image;
        break;
    }
  }
  return counts;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

template <class Work>
double elapsed_ms(const torch::Device& device, Work&& work) {
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  work();
  synchronize(device);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Rows [first, first + count) of a step's input for one batch x (activations a), holding what the method's
// rows hold, built with plain tensor ops.
torch::Tensor step_rows(const PassStep& step, int64_t first, int64_t count, const torch::Tensor& x,
                        const torch::Tensor& a) {
  const auto rows = torch::arange(first, first + count, x.options().dtype(torch::kLong));
  switch (step.content) {
    case RowContent::kInputs:
      return x.narrow(0, first, count);
    case RowContent::kActivations:
      return a.narrow(0, first, count);
    case RowContent::kZeros:
      return torch::zeros_like((step.kind == PassKind::kForward ? x : a).narrow(0, 0, count));
    case RowContent::kChannelMasked: {
      const auto masks =
          minmax_normalise(upsample(a.flatten(0, 1).index_select(0, rows), x.size(2), x.size(3)));
      return x.index_select(0, rows.div(a.size(1), "floor")) * masks.unsqueeze(1);
    }
    case RowContent::kChannelAblated: {
      auto ablated = a.index_select(0, rows.div(a.size(1), "floor"));
      const auto zeroed = torch::arange(count, rows.options()) * a.size(1) + rows.remainder(a.size(1));
      ablated.flatten(0, 1).index_fill_(0, zeroed, 0);  // a view of `ablated`: fills it in place
      return ablated;
    }
    case RowContent::kPlacementKept:
    case RowContent::kPlacementRemoved: {
      const int64_t placements = step.placement_masks.size(0);
      auto masks = step.placement_masks.index_select(0, rows.remainder(placements));
      if (step.content == RowContent::kPlacementRemoved) masks = 1 - masks;
      return a.index_select(0, rows.div(placements, "floor")) * masks.unsqueeze(1);
    }
    case RowContent::kPixelsMasked: {
      const auto images = x.index_select(0, rows.remainder(x.size(0)));
      return images * (torch::rand_like(images.select(1, 0)) > 0.5).unsqueeze(1).to(x.scalar_type());
    }
  }
  throw Error("bench: unknown row content");
}

// Milliseconds of the plan's model calls alone on x (one batch). Each call's input is built before its timer
// starts, so the limit is model time only: what a method spends beyond it is its own tensor work.
double time_passes(const Model& model, const PassPlan& plan, const torch::Tensor& x) {
  const auto& device = model.device();
  torch::Tensor activations;
  double ms = 0;
  for (const PassStep& step : plan) {
    TORCH_CHECK(step.kind == PassKind::kFeatures || activations.defined(),
                "bench: a plan starts with features");
    for (int64_t first = 0; first < step.rows; first += step.chunk) {
      const int64_t count = std::min(step.chunk, step.rows - first);
      torch::NoGradGuard no_grad;
      const auto input = step_rows(step, first, count, x, activations);
      switch (step.kind) {
        case PassKind::kFeatures:
          ms += elapsed_ms(device, [&] { activations = model.features(input); });
          break;
        case PassKind::kHead:
          ms += elapsed_ms(device, [&] { model.head(input); });
          break;
        case PassKind::kForward:
          ms += elapsed_ms(device, [&] { model.forward(input); });
          break;
        case PassKind::kHeadWithBackward: {
          const auto tracked = input.detach().requires_grad_(true);
          torch::AutoGradMode enable_grad(true);
          // Class 0 for every row: any class costs the same backward pass.
          ms += elapsed_ms(
              device, [&] { torch::autograd::grad({model.head(tracked).select(1, 0).sum()}, {tracked}); });
          break;
        }
      }
    }
  }
  return ms;
}

// One batch as the item processor runs it: a CamBatch (features, the prediction's head pass), the top-1
// target, every method on the shared batch, and with an evaluator every metric of every method.
void run_methods(const Model& model, const std::vector<const CamMethod*>& methods, const torch::Tensor& x,
                 const MetricEvaluator* evaluator = nullptr) {
  const bool gradients =
      std::any_of(methods.begin(), methods.end(), [](const CamMethod* m) { return m->needs_gradients(); });
  CamBatch cams(model, x, gradients);
  cams.set_targets(std::get<1>(cams.logits().max(1)));
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
BenchRow measure(const std::string& id, const Model& model, const std::function<void(const torch::Tensor&)>& work,
                 const PassPlan& plan, const std::vector<torch::Tensor>& batches, const BenchOptions& options,
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

std::string number_text(double value) { return fmt::format("{:g}", std::round(value * 100) / 100); }

// "130 (1 features, 129 head)": the total and its non-zero kinds.
std::string passes_text(const PassCounts& passes) {
  std::string kinds;
  for (const auto& [count, name] :
       {std::pair{passes.features, "features"}, std::pair{passes.head, "head"},
        std::pair{passes.forward, "forward"}, std::pair{passes.backward, "backward"}}) {
    if (count > 0) kinds += (kinds.empty() ? "" : ", ") + number_text(count) + " " + name;
  }
  return number_text(passes.total()) + " (" + kinds + ")";
}

}  // namespace

double status_mb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // "N kB"
  }
  return 0;
}

BenchReport run_bench(const Model& model, const BenchOptions& options) {
  if (options.images < 1 || options.batch_size < 1 || options.images % options.batch_size != 0) {
    throw ConfigError("bench: images (" + std::to_string(options.images) +
                      ") must be a positive multiple of batch_size (" + std::to_string(options.batch_size) +
                      ")");
  }
  if (options.warmup < 0) throw ConfigError("bench: warmup must not be negative");
  const std::vector<std::string> ids = options.methods.empty() ? implemented_cam_methods() : options.methods;
  const std::vector<std::unique_ptr<CamMethod>> methods = make_cam_methods(ids, options.cams);

  const std::vector<torch::Tensor> batches = synthetic_batches(model, options);
  BenchReport report;
  report.images = options.images;
  report.batch_size = options.batch_size;
  report.warmup = options.warmup;
  report.threads = at::get_num_threads();

  std::vector<const CamMethod*> all;
  bool any_gradients = false;
  PassPlan whole_plan;  // the shared passes once, then every method's own
  for (const auto& method : methods) {
    const PassPlan own = own_passes(method->id(), options.cams, model, options.batch_size);
    PassPlan plan = shared_passes(options.batch_size, method->needs_gradients());
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
    any_gradients = any_gradients || method->needs_gradients();
  }
  const PassPlan shared = shared_passes(options.batch_size, any_gradients);
  whole_plan.insert(whole_plan.begin(), shared.begin(), shared.end());
  report.whole_image =
      measure("whole_image", model, [&](const torch::Tensor& x) { run_methods(model, all, x); }, whole_plan,
              batches, options, report.peak_rss_per_method);
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
        "whole_image_metrics", model,
        [&](const torch::Tensor& x) { run_methods(model, all, x, &evaluator); }, plan, batches,
        options, report.peak_rss_per_method);
  }
  if (!report.peak_rss_per_method) {
    spdlog::warn(
        "bench: this kernel does not let the process reset its peak RSS; peak_rss_mb is the process's peak "
        "so far, in the order of the rows");
  }
  return report;
}

std::string bench_markdown(const BenchReport& report, const Model& model) {
  const ModelMeta& meta = model.meta();
  std::ostringstream out;
  out << fmt::format(
      "Model {} ({}): input {}x{}x{}, target layer {}x{}x{}, {} classes, on {}. {} images, batch size {}, {} "
      "thread(s), {} warm-up run(s); ms/image and limit ms are medians over the batches, per image; peak RSS "
      "is {}.\n\n",
      meta.name, model.path(), meta.channels, meta.input_height, meta.input_width, model.feature_channels(),
      model.grid_height(), model.grid_width(), meta.num_classes, model.device().str(), report.images,
      report.batch_size, report.threads, report.warmup,
      report.peak_rss_per_method ? "the process's peak during one run of the method (peak reset before it)"
                                 : "the process's peak so far (it could not be reset per method)");
  out << "| method | ms/image | limit ms | ratio | passes per image | peak RSS MiB |\n"
      << "|---|---:|---:|---:|---|---:|\n";
  auto write_row = [&](const BenchRow& row) {
    out << fmt::format("| {} | {:.3f} | {:.3f} | {:.2f} | {} | {:.0f} |\n", row.id, row.ms_per_image,
                       row.limit_ms, row.ratio(), passes_text(row.passes), row.peak_rss_mb);
  };
  for (const BenchRow& row : report.methods) write_row(row);
  write_row(report.whole_image);
  if (!report.whole_image_metrics.id.empty()) write_row(report.whole_image_metrics);
  return out.str();
}

nlohmann::json bench_json(const BenchReport& report) {
  auto entry = [](const BenchRow& row) {
    return nlohmann::json{{"ms_per_image", row.ms_per_image},
                          {"limit_ms", row.limit_ms},
                          {"ratio", row.ratio()},
                          {"passes", row.passes.total()},
                          {"pass_breakdown",
                           {{"features", row.passes.features},
                            {"head", row.passes.head},
                            {"forward", row.passes.forward},
                            {"backward", row.passes.backward}}},
                          {"peak_rss_mb", row.peak_rss_mb},
                          {"base_rss_mb", row.base_rss_mb}};
  };
  nlohmann::json out = nlohmann::json::object();
  for (const BenchRow& row : report.methods) out[row.id] = entry(row);
  out[report.whole_image.id] = entry(report.whole_image);
  if (!report.whole_image_metrics.id.empty()) out[report.whole_image_metrics.id] = entry(report.whole_image_metrics);
  return out;
}

}  // namespace pixab
