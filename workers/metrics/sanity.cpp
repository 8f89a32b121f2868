// Cascading model-parameter randomisation (metrics.md, "Sanity check") and the similarity of the maps before
// and after.
#include "workers/metrics/sanity.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "io/error.hpp"
#include "workers/cams/cam_math.hpp"

namespace pixab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kWeightStd = 0.01;

// Ranks 1..n of the values, ties sharing their average rank.
std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

std::vector<double> as_doubles(const torch::Tensor& t) {
  const auto flat = t.to(torch::kCPU, torch::kDouble).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

torch::jit::Module find_module(const torch::jit::Module& root, const std::string& name) {
  for (const auto& item : root.named_modules()) {
    if (item.name == name) return item.value;
  }
  throw std::logic_error("sanity check: no module named '" + name + "'");
}

}  // namespace

std::vector<ParameterGroup> cascade_groups(const torch::jit::Module& module) {
  std::vector<ParameterGroup> groups;
  for (const auto& item : module.named_modules()) {  // pre-order: registration order
    if (item.value.named_parameters(/*recurse=*/false).size() == 0) continue;
    const auto type = item.value.type()->name();
    const std::string type_name = type ? type->name() : "";
    groups.push_back({item.name, type_name.find("BatchNorm") != std::string::npos});
  }
  std::reverse(groups.begin(), groups.end());
  return groups;
}

void randomise_group(torch::jit::Module& module, const ParameterGroup& group, std::size_t index,
                     std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::jit::Module owner = find_module(module, group.name);
  // splitmix-style mixing, so that neighbouring seeds and indices give unrelated streams.
  std::uint64_t mixed = seed + 0x9e3779b97f4a7c15ULL * (index + 1);
  mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
  mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
  auto generator = at::detail::createCPUGenerator(mixed ^ (mixed >> 31));
  for (const auto& parameter : owner.named_parameters(/*recurse=*/false)) {
    torch::Tensor value = parameter.value;
    const bool bias = parameter.name.find("bias") != std::string::npos;
    if (bias) {
      value.zero_();
    } else if (group.batch_norm) {
      value.fill_(1);
    } else {
      const auto drawn = at::normal(0.0, kWeightStd, value.sizes(), generator,
                                    torch::TensorOptions().dtype(torch::kFloat));
      value.copy_(drawn);
    }
  }
}

double spearman_correlation(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.numel() == b.numel(), "spearman_correlation: sizes differ");
  const auto ra = average_ranks(as_doubles(a)), rb = average_ranks(as_doubles(b));
  const double n = static_cast<double>(ra.size());
  const double mean = (n + 1) / 2;  // the mean of average ranks is always (n + 1) / 2
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return saa == 0 || sbb == 0 ? kNaN : sab / std::sqrt(saa * sbb);
}

double ssim(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.type() == CV_32FC1 && b.type() == CV_32FC1 && a.size == b.size);
  constexpr int kWindow = 11, kHalf = kWindow / 2;
  constexpr double kSigma = 1.5, kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;  // (K L)^2 with L = 1
  if (a.rows < kWindow || a.cols < kWindow) return kNaN;
  cv::Mat x, y;
  a.convertTo(x, CV_64F);
  b.convertTo(y, CV_64F);
  // Filtering with any border rule and cutting the border off gives exactly the "valid" filter.
  const cv::Rect valid(kHalf, kHalf, a.cols - 2 * kHalf, a.rows - 2 * kHalf);
  const auto filter = [&](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(kWindow, kWindow), kSigma, kSigma, cv::BORDER_REFLECT_101);
    return cv::Mat(out, valid);
  };
  const cv::Mat mx = filter(x), my = filter(y);
  const cv::Mat sxx = filter(x.mul(x)) - mx.mul(mx), syy = filter(y.mul(y)) - my.mul(my),
                sxy = filter(x.mul(y)) - mx.mul(my);
  const cv::Mat numerator = (2 * mx.mul(my) + kC1).mul(2 * sxy + kC2);
  const cv::Mat denominator = (mx.mul(mx) + my.mul(my) + kC1).mul(sxx + syy + kC2);
  return cv::mean(numerator / denominator)[0];
}

SanityCheck::SanityCheck(const Model& model, int stages, std::uint64_t seed) : model_(model), seed_(seed) {
  groups_ = cascade_groups(model.module());
  if (stages < 0 || static_cast<std::size_t>(stages) > groups_.size()) {
    throw ConfigError("sanity.stages = " + std::to_string(stages) + ", but the model " + model.path() +
                      " has " + std::to_string(groups_.size()) + " parameter groups (0: all of them)");
  }
  if (stages > 0) groups_.resize(static_cast<std::size_t>(stages));
  if (groups_.empty()) throw ConfigError("sanity check: the model " + model.path() + " has no parameters");

  torch::NoGradGuard no_grad;
  randomised_ = std::make_unique<Model>(model_.deep_copy());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    randomise_group(randomised_->module(), groups_[g], g, seed_);
    const auto live = find_module(randomised_->module(), groups_[g].name).named_parameters(/*recurse=*/false);
    const auto original = find_module(model_.module(), groups_[g].name).named_parameters(/*recurse=*/false);
    std::vector<ParameterStates> states;
    auto o = original.begin();
    for (const auto& parameter : live) {
      states.push_back({parameter.value, (*o).value, parameter.value.clone()});
      ++o;
    }
    group_parameters_.push_back(std::move(states));
  }
}

std::vector<std::string> SanityCheck::stage_names() const {
  std::vector<std::string> names;
  for (const auto& group : groups_) names.push_back(group.name.empty() ? "(root)" : group.name);
  return names;
}

void SanityCheck::declare_arrays(const std::string& method, ArraySpecs& specs) const {
  const auto stages = static_cast<std::uint64_t>(groups_.size());
  specs.add({"sanity/" + method + "/spearman", DType::kFloat32, {stages}});
  specs.add({"sanity/" + method + "/ssim", DType::kFloat32, {stages}});
  specs.add({"sanity/" + method + "/maps", DType::kFloat32,
             {stages, static_cast<std::uint64_t>(model_.grid_height()),
              static_cast<std::uint64_t>(model_.grid_width())}});
}

std::vector<std::pair<std::string, torch::Tensor>> SanityCheck::evaluate(
    const std::vector<std::unique_ptr<CamMethod>>& methods, const CamBatch& original,
    const std::vector<std::pair<std::string, torch::Tensor>>& maps) const {
  const torch::Tensor& inputs = original.inputs();
  const int64_t images = inputs.size(0), height = inputs.size(2), width = inputs.size(3);
  const auto stages = static_cast<int64_t>(groups_.size());
  // E on the maps' own device for both sides, so that identical maps give identical E (upsampling on
  // another device could round differently); only E goes to the host.
  const auto explanation = [&](const torch::Tensor& l) {
    return minmax_normalise(upsample(l, height, width)).to(torch::kCPU, torch::kFloat).contiguous();
  };
  std::vector<torch::Tensor> before;
  for (const auto& [id, map] : maps) before.push_back(explanation(map));

  const BatchNeeds needs = merged_needs(methods);
  const std::size_t m_count = methods.size();
  std::vector<torch::Tensor> spearman(m_count), similarity(m_count), stage_maps(m_count);
  for (std::size_t m = 0; m < m_count; ++m) {
    spearman[m] = torch::full({images, stages}, kNaN, torch::kFloat);
    similarity[m] = torch::full({images, stages}, kNaN, torch::kFloat);
    stage_maps[m] = torch::empty({images, stages, model_.grid_height(), model_.grid_width()}, torch::kFloat);
  }
  // The cascade is cumulative: the copy starts each batch as the original model and takes one more group's
  // randomised values at each stage.
  {
    torch::NoGradGuard no_grad;
    for (const auto& group : group_parameters_) {
      for (const auto& parameter : group) parameter.live.copy_(parameter.original);
    }
  }
  for (int64_t s = 0; s < stages; ++s) {
    {
      torch::NoGradGuard no_grad;
      for (const auto& parameter : group_parameters_[static_cast<std::size_t>(s)])
        parameter.live.copy_(parameter.randomised);
    }
    CamBatch batch(*randomised_, inputs, needs);
    batch.set_targets(original.targets());
    batch.set_item_ids(original.item_ids());
    for (std::size_t m = 0; m < m_count; ++m) {
      const torch::Tensor map = methods[m]->compute(batch).maps;
      stage_maps[m].select(1, s).copy_(map);  // to the host, as float
      const torch::Tensor after = explanation(map);
      for (int64_t b = 0; b < images; ++b) {
        spearman[m][b][s] = spearman_correlation(before[m][b], after[b]);
        const cv::Mat e0(static_cast<int>(height), static_cast<int>(width), CV_32FC1, before[m][b].data_ptr<float>());
        const cv::Mat e1(static_cast<int>(height), static_cast<int>(width), CV_32FC1, after[b].data_ptr<float>());
        similarity[m][b][s] = ssim(e0, e1);
      }
    }
  }
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (std::size_t m = 0; m < m_count; ++m) {
    const std::string prefix = "sanity/" + maps[m].first + "/";
    out.emplace_back(prefix + "spearman", spearman[m]);
    out.emplace_back(prefix + "ssim", similarity[m]);
    out.emplace_back(prefix + "maps", stage_maps[m]);
  }
  return out;
}

}  // namespace pixab
