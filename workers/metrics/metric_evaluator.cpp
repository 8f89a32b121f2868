// Metric evaluation for a batch: one list of model inputs for all metrics, built on the device chunk by chunk
// and scored in batches; then the per-image arithmetic.
#include "workers/metrics/metric_evaluator.hpp"

#include <opencv2/core.hpp>

#include <cmath>
#include <limits>

#include "workers/cams/cam_math.hpp"
#include "workers/metrics/faithfulness.hpp"
#include "workers/metrics/localisation.hpp"

namespace pixab {

namespace {

// How one row of the metric passes is built from its image x, its explanation E and the blurred image:
// masked x * E (Average Drop), deletion and insertion steps, and the insertion's fully blurred start.
enum RowKind : int64_t { kMasked = 0, kDeletion = 1, kInsertion = 2, kBlurred = 3 };

struct MetricRows {
  std::vector<int64_t> image, explanation, kind, pixels;
  void add(int64_t i, int64_t e, RowKind k, int64_t p) {
    image.push_back(i);
    explanation.push_back(e);
    kind.push_back(k);
    pixels.push_back(p);
  }
  int64_t size() const { return static_cast<int64_t>(image.size()); }
};

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

}  // namespace

MetricEvaluator::MetricEvaluator(const Model& model, MetricSettings settings)
    : model_(model), settings_(std::move(settings)) {
  check_metric_settings(settings_);
}

void MetricEvaluator::declare_arrays(const std::string& method, ArraySpecs& specs) const {
  for (const auto& metric : settings_.metrics) specs.add({"metrics/" + method + "/" + metric, DType::kFloat32, {}});
  const std::uint64_t points = static_cast<std::uint64_t>(settings_.steps) + 1;
  if (settings_.has("deletion_auc")) specs.add({"curves/" + method + "/deletion", DType::kFloat32, {points}});
  if (settings_.has("insertion_auc")) specs.add({"curves/" + method + "/insertion", DType::kFloat32, {points}});
}

std::int64_t MetricEvaluator::forward_rows_per_image(std::int64_t methods) const {
  const bool masked = settings_.has("average_drop") || settings_.has("increase_in_confidence");
  const int64_t inner_steps = settings_.steps - 1;
  return methods * (masked + (settings_.has("deletion_auc") + settings_.has("insertion_auc")) * inner_steps) +
         settings_.has("insertion_auc");
}

MetricArrays MetricEvaluator::evaluate(CamBatch& batch,
                                       const std::vector<std::pair<std::string, torch::Tensor>>& maps,
                                       const std::vector<std::vector<Box>>& boxes) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor& x = batch.inputs();
  const int64_t images = x.size(0), height = x.size(2), width = x.size(3), pixels = height * width;
  const int64_t methods = static_cast<int64_t>(maps.size());
  const int steps = settings_.steps;
  TORCH_CHECK(static_cast<int64_t>(boxes.size()) == images, "evaluate: one box list per image");
  MetricArrays out;
  if (settings_.metrics.empty() || methods == 0) return out;

  // E = s(U(L)) for every (image, method), row image * methods + method.
  std::vector<torch::Tensor> stacked;
  for (const auto& [id, map] : maps) stacked.push_back(map);
  const torch::Tensor low = torch::stack(stacked, 1).flatten(0, 1);  // [B*M,h,w]
  const torch::Tensor explanations = minmax_normalise(upsample(low, height, width));

  const bool masked = settings_.has("average_drop") || settings_.has("increase_in_confidence");
  const bool deletion = settings_.has("deletion_auc"), insertion = settings_.has("insertion_auc");
  MetricRows rows;
  for (int64_t b = 0; b < images; ++b) {
    for (int64_t m = 0; m < methods; ++m) {
      const int64_t e = b * methods + m;
      if (masked) rows.add(b, e, kMasked, 0);
      // t = 0 and t = steps are the clean, blurred or all-zero inputs, shared by every method: scored once.
      for (int t = 1; deletion && t < steps; ++t) rows.add(b, e, kDeletion, pixels_at_step(pixels, steps, t));
      for (int t = 1; insertion && t < steps; ++t) rows.add(b, e, kInsertion, pixels_at_step(pixels, steps, t));
    }
    if (insertion) rows.add(b, 0, kBlurred, 0);
  }

  const auto device = x.device();
  const auto to_device = [&](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).to(device); };
  const torch::Tensor row_image = to_device(rows.image), row_explanation = to_device(rows.explanation),
                      row_kind = to_device(rows.kind), row_pixels = to_device(rows.pixels);
  const torch::Tensor ranks = deletion || insertion ? deletion_ranks(explanations) : torch::Tensor();
  const torch::Tensor blurred = insertion ? rise_blur(x) : torch::zeros_like(x);
  const torch::Tensor& targets = batch.targets();

  const auto score_rows = [&](int64_t first, int64_t n) {
    const auto image = row_image.narrow(0, first, n), kind = row_kind.narrow(0, first, n).view({n, 1, 1, 1});
    const auto explanation = row_explanation.narrow(0, first, n);
    const auto e = explanations.index_select(0, explanation).unsqueeze(1);  // [n,1,H,W]
    torch::Tensor kept = e;  // the share of x in the input; the blurred image fills the rest for insertion
    if (deletion || insertion) {
      const auto gone = (ranks.index_select(0, explanation) < row_pixels.narrow(0, first, n).unsqueeze(1))
                            .to(x.scalar_type())
                            .view({n, 1, height, width});
      // Zeros rather than 0 * e: the blurred rows borrow explanation 0, and a NaN there must not reach them.
      kept = torch::where(
          kind == kDeletion, 1 - gone,
          torch::where(kind == kInsertion, gone, torch::where(kind == kMasked, e, torch::zeros_like(e))));
    }
    const auto from_blur =
        torch::where(kind == kInsertion, 1 - kept,
                     torch::where(kind == kBlurred, torch::ones_like(kept), torch::zeros_like(kept)));
    const auto inputs = kept * x.index_select(0, image) + from_blur * blurred.index_select(0, image);
    return class_score(model_.forward(inputs), targets.index_select(0, image), ScoreKind::kProbability);
  };
  // Localisation and compactness alone need no model pass.
  const torch::Tensor scores = rows.size() == 0 ? torch::empty({0}, x.options())
                                                : chunked(rows.size(), settings_.full_batch_size, score_rows);
  const auto score = scores.to(torch::kCPU, torch::kDouble).contiguous();
  const double* s = score.data_ptr<double>();

  const auto clean = class_score(batch.logits(), targets, ScoreKind::kProbability).to(torch::kCPU, torch::kDouble);
  const auto zero = class_score(batch.zero_input_logits().unsqueeze(0).expand({images, -1}), targets,
                                ScoreKind::kProbability)
                        .to(torch::kCPU, torch::kDouble);
  const auto compact = low.to(torch::kDouble).sum({1, 2}).to(torch::kCPU);
  const auto e_host = explanations.to(torch::kCPU, torch::kFloat).contiguous();

  // Host-side assembly, walking the rows in the order they were added. Values per (method, name), row-major
  // [images, cols].
  struct Column {
    int64_t cols = 1;
    std::vector<float> values;
  };
  std::map<std::string, Column> columns;
  const auto set = [&](const std::string& id, const std::string& name, int64_t b, double value, int64_t col = 0,
                       int64_t cols = 1) {
    Column& c = columns[id + "/" + name];
    if (c.values.empty()) c = {cols, std::vector<float>(static_cast<std::size_t>(images * cols), kNaN)};
    c.values[static_cast<std::size_t>(b * cols + col)] = static_cast<float>(value);
  };
  const auto clean_a = clean.accessor<double, 1>(), zero_a = zero.accessor<double, 1>(),
             compact_a = compact.accessor<double, 1>();
  const int64_t rows_per_method = masked + (deletion + insertion) * (steps - 1);
  int64_t r = 0;
  for (int64_t b = 0; b < images; ++b) {
    const double y = clean_a[b];
    const auto& image_boxes = boxes[static_cast<std::size_t>(b)];
    const cv::Mat region = target_region(image_boxes, static_cast<int>(height), static_cast<int>(width));
    // The blurred start of insertion is the image's last row, after its method rows.
    const double y_blur = insertion ? s[r + methods * rows_per_method] : 0;
    for (int64_t m = 0; m < methods; ++m) {
      const std::string& id = maps[static_cast<std::size_t>(m)].first;
      const int64_t e = b * methods + m;
      if (masked) {
        const double o = s[r++];
        if (settings_.has("average_drop")) set(id, "average_drop", b, average_drop(y, o));
        if (settings_.has("increase_in_confidence"))
          set(id, "increase_in_confidence", b, increase_in_confidence(y, o));
      }
      const auto curve = [&](const char* name, double start, double end) {
        set(id, name, b, start, 0, steps + 1);
        for (int t = 1; t < steps; ++t) set(id, name, b, s[r++], t, steps + 1);
        set(id, name, b, end, steps, steps + 1);
      };
      if (deletion) curve("deletion", y, zero_a[b]);
      if (insertion) curve("insertion", y_blur, y);
      if (settings_.has("compactness")) set(id, "compactness", b, compact_a[e]);
      const cv::Mat map(static_cast<int>(height), static_cast<int>(width), CV_32FC1,
                        e_host[e].data_ptr<float>());
      if (settings_.has("pointing_game"))
        set(id, "pointing_game", b, pointing_game(map, region, settings_.tolerance_px));
      if (settings_.has("proportion")) set(id, "proportion", b, proportion(map, region));
      if (settings_.has("loc_iou") || settings_.has("loc_correct")) {
        const double iou = localisation_iou(map, image_boxes, settings_.loc_threshold);
        if (settings_.has("loc_iou")) set(id, "loc_iou", b, iou);
        if (settings_.has("loc_correct")) set(id, "loc_correct", b, std::isnan(iou) ? kNaN : iou >= 0.5);
      }
    }
    r += insertion;
  }

  const auto tensor = [&](const Column& c) {
    auto t = torch::tensor(c.values, torch::kFloat);
    return c.cols > 1 ? t.view({images, c.cols}) : t;
  };
  for (const auto& [id, map] : maps) {
    for (const auto& metric : settings_.metrics) {
      const std::string path = "metrics/" + id + "/" + metric;
      if (metric == "deletion_auc") {
        out.emplace_back(path, trapezoid_auc(tensor(columns.at(id + "/deletion"))));
      } else if (metric == "insertion_auc") {
        out.emplace_back(path, trapezoid_auc(tensor(columns.at(id + "/insertion"))));
      } else {
        out.emplace_back(path, tensor(columns.at(id + "/" + metric)));
      }
    }
    if (deletion) out.emplace_back("curves/" + id + "/deletion", tensor(columns.at(id + "/deletion")));
    if (insertion) out.emplace_back("curves/" + id + "/insertion", tensor(columns.at(id + "/insertion")));
  }
  return out;
}

}  // namespace pixab
