// The sanity check: parameter groups and their re-initialisation, and the similarity measures on known maps.
#include <gtest/gtest.h>

#include <cmath>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/metrics/sanity.hpp"

namespace pixab {
namespace {

TEST(Spearman, KnownRankCorrelations) {
  // No ties: 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / 60.
  EXPECT_NEAR(spearman_correlation(torch::tensor({1.0, 2.0, 3.0, 4.0}), torch::tensor({1.0, 3.0, 2.0, 4.0})), 0.8,
              1e-12);
  EXPECT_NEAR(spearman_correlation(torch::tensor({1.0, 2.0, 3.0}), torch::tensor({30.0, 20.0, 10.0})), -1.0, 1e-12);
  // Ties share their average rank: ranks (1.5, 1.5, 3, 4) against (1, 2, 3, 4) give 4.5 / sqrt(4.5 * 5).
  EXPECT_NEAR(spearman_correlation(torch::tensor({1.0, 1.0, 2.0, 3.0}), torch::tensor({1.0, 2.0, 3.0, 4.0})),
              4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_TRUE(std::isnan(spearman_correlation(torch::zeros({4}), torch::tensor({1.0, 2.0, 3.0, 4.0}))));
}

TEST(Ssim, IdenticalConstantAndTooSmall) {
  torch::manual_seed(0);
  const auto noise = torch::rand({16, 16}).contiguous();
  const cv::Mat a(16, 16, CV_32FC1, noise.data_ptr<float>());
  EXPECT_NEAR(ssim(a, a), 1.0, 1e-12);
  // Constant images 0.2 and 0.6: no variance, so SSIM = (2 * 0.2 * 0.6 + C1) / (0.2^2 + 0.6^2 + C1).
  const cv::Mat low(12, 12, CV_32FC1, cv::Scalar(0.2)), high(12, 12, CV_32FC1, cv::Scalar(0.6));
  EXPECT_NEAR(ssim(low, high), (0.24 + 1e-4) / (0.40 + 1e-4), 1e-6);
  const cv::Mat tiny(10, 16, CV_32FC1, cv::Scalar(0.5));
  EXPECT_TRUE(std::isnan(ssim(tiny, tiny)));
}

TEST(Ssim, MatchesAnIndependentImplementation) {
  // 15x13 (not square, so a swap of rows and columns shows): a = ((7i + 3j) mod 11) / 10, b its average with
  // the ramp (i + 2j) / 38, both float32. The expected value is from a direct numpy implementation, not
  // OpenCV's filter:
  //   w = exp(-(di^2 + dj^2) / (2 * 1.5^2)) over di, dj in -5..5, w /= w.sum()
  //   for every 11x11 window x, y fully inside: mx = (w*x).sum(), sxx = (w*(x-mx)**2).sum(),
  //     sxy = (w*(x-mx)*(y-my)).sum(); (2 mx my + C1)(2 sxy + C2) / ((mx^2 + my^2 + C1)(sxx + syy + C2))
  //   with C1 = 0.01^2, C2 = 0.03^2; the mean over the 5x3 windows: 0.78089012973611183.
  cv::Mat a(15, 13, CV_32FC1), b(15, 13, CV_32FC1);
  for (int i = 0; i < a.rows; ++i) {
    for (int j = 0; j < a.cols; ++j) {
      a.at<float>(i, j) = static_cast<float>(((7 * i + 3 * j) % 11) / 10.0);
      b.at<float>(i, j) = 0.5f * a.at<float>(i, j) + 0.5f * static_cast<float>((i + 2 * j) / 38.0);
    }
  }
  EXPECT_NEAR(ssim(a, b), 0.78089012973611183, 1e-12);
  EXPECT_NEAR(ssim(b, a), 0.78089012973611183, 1e-12);
}

// A model with two layers as submodules: conv (features) and fc (head), plus a BatchNorm-named module.
torch::jit::Module layered_module() {
  torch::jit::Module root("SanityTestModel");
  const auto add = [&root](const std::string& name, const std::string& type, torch::Tensor weight,
                           torch::Tensor bias) {
    torch::jit::Module layer(type);
    layer.register_parameter("weight", weight, false);
    layer.register_parameter("bias", bias, false);
    root.register_module(name, layer);
  };
  torch::manual_seed(1);
  add("conv", "SanityConv", torch::randn({4, 3, 3, 3}), torch::randn({4}));
  add("norm", "SanityBatchNorm2d", torch::rand({4}) + 0.5, torch::randn({4}));
  add("fc", "SanityLinear", torch::randn({5, 4}), torch::randn({5}));
  root.define(R"(
def features(self, x):
    y = torch.conv2d(x, self.conv.weight, self.conv.bias, [1, 1], [1, 1])
    return torch.relu(y * self.norm.weight.view(1, 4, 1, 1) + self.norm.bias.view(1, 4, 1, 1))

def head(self, a):
    return torch.linear(a.mean([2, 3]), self.fc.weight, self.fc.bias)

def forward(self, x):
    return self.head(self.features(x))
)");
  return root;
}

TEST(SanityGroups, OutputEndFirstAndBatchNormRecognised) {
  const auto groups = cascade_groups(layered_module());
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].name, "fc");
  EXPECT_EQ(groups[1].name, "norm");
  EXPECT_EQ(groups[2].name, "conv");
  EXPECT_FALSE(groups[0].batch_norm);
  EXPECT_TRUE(groups[1].batch_norm);
}

TEST(SanityGroups, ReinitialisationRulesAndReproducibility) {
  auto a = layered_module(), b = layered_module(), c = layered_module();
  const auto groups = cascade_groups(a);
  randomise_group(a, groups[1], 1, 7);
  EXPECT_TRUE(torch::equal(a.attr("norm").toModule().attr("weight").toTensor(), torch::ones({4})));
  EXPECT_TRUE(torch::equal(a.attr("norm").toModule().attr("bias").toTensor(), torch::zeros({4})));
  randomise_group(a, groups[0], 0, 7);
  randomise_group(b, groups[0], 0, 7);
  randomise_group(c, groups[0], 0, 8);
  const auto fc = [](torch::jit::Module& m, const char* p) { return m.attr("fc").toModule().attr(p).toTensor(); };
  EXPECT_TRUE(torch::equal(fc(a, "weight"), fc(b, "weight")));
  EXPECT_FALSE(torch::equal(fc(a, "weight"), fc(c, "weight")));
  EXPECT_TRUE(torch::equal(fc(a, "bias"), torch::zeros({5})));
  EXPECT_LT(fc(a, "weight").abs().max().item<float>(), 0.06f);  // N(0, 0.01^2): 20 draws within 6 sigma
  // The conv layer is later in the cascade: untouched so far.
  EXPECT_TRUE(torch::equal(a.attr("conv").toModule().attr("weight").toTensor(),
                           layered_module().attr("conv").toModule().attr("weight").toTensor()));
}

// layered_module as a loaded model (12x12 inputs, 3 channels, 5 classes), saved under a fresh folder `name`.
Model layered_model(const std::string& name) {
  const std::string dir = test::fresh_temp_dir(name);
  torch::jit::ExtraFilesMap extra{{"pixab.json", test::simple_meta_json(12, 12, 3, 5)}};
  layered_module().save(dir + "/model.pt", extra);
  return Model::load(dir + "/model.pt", torch::kCPU);
}

// A batch of two random images, each with its top class as the target.
CamBatch random_batch(const Model& model) {
  torch::manual_seed(2);
  CamBatch batch(model, torch::rand({2, 3, 12, 12}), BatchNeeds::logit_gradients());
  batch.set_targets(std::get<1>(batch.logits().max(1)));
  return batch;
}

TEST(SanityCheckRun, StagesShapesAndTheOriginalModelUntouched) {
  const Model model = layered_model("sanity-run");
  const auto before = model.module().attr("fc").toModule().attr("weight").toTensor().clone();

  const SanityCheck check(model, 2, 0);
  EXPECT_EQ(check.stage_names(), (std::vector<std::string>{"fc", "norm"}));
  EXPECT_THROW(SanityCheck(model, 4, 0), ConfigError);

  CamBatch batch = random_batch(model);
  const auto methods = make_cam_methods({"grad_cam", "activation_cam"});
  std::vector<std::pair<std::string, torch::Tensor>> maps;
  for (const auto& m : methods) maps.emplace_back(m->id(), m->compute(batch).maps);
  const auto out = check.evaluate(methods, batch, maps);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].first, "sanity/grad_cam/spearman");
  EXPECT_EQ(out[0].second.sizes(), torch::IntArrayRef({2, 2}));
  EXPECT_EQ(out[2].second.sizes(), torch::IntArrayRef({2, 2, 12, 12}));
  // Activation-CAM does not depend on the head: re-initialising fc leaves its map, so correlation 1 and
  // SSIM 1 at stage 1.
  EXPECT_EQ(out[3].first, "sanity/activation_cam/spearman");
  EXPECT_NEAR(out[3].second[0][0].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(out[4].second[0][0].item<float>(), 1.0, 1e-6);
  EXPECT_TRUE(torch::equal(model.module().attr("fc").toModule().attr("weight").toTensor(), before));
}

// Stage 2 explains a model with groups 0 and 1 (fc and norm) re-initialised, not group 1 alone.
TEST(SanityCheckRun, StagesAreCumulative) {
  constexpr std::uint64_t kSeed = 5;
  const Model model = layered_model("sanity-cumulative");
  CamBatch batch = random_batch(model);
  const auto methods = make_cam_methods({"grad_cam"});  // depends on fc and norm
  const auto out =
      SanityCheck(model, 2, kSeed).evaluate(methods, batch, {{"grad_cam", methods[0]->compute(batch).maps}});
  ASSERT_EQ(out[2].first, "sanity/grad_cam/maps");
  const torch::Tensor stage2 = out[2].second.select(1, 1);

  const auto groups = cascade_groups(model.module());
  const auto maps_with = [&](const std::vector<std::size_t>& randomised) {
    Model copy = model.deep_copy();
    for (const std::size_t g : randomised) randomise_group(copy.module(), groups[g], g, kSeed);
    CamBatch copy_batch(copy, batch.inputs(), BatchNeeds::logit_gradients());
    copy_batch.set_targets(batch.targets());
    return methods[0]->compute(copy_batch).maps;
  };
  EXPECT_TRUE(torch::equal(stage2, maps_with({0, 1})));
  EXPECT_FALSE(torch::allclose(stage2, maps_with({1})));
}

}  // namespace
}  // namespace pixab
