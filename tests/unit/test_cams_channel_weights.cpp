// Grad-CAM++, XGrad-CAM, Score-CAM and Ablation-CAM against numbers computed by hand (written out in
// comments).
#include <gtest/gtest.h>

#include <cmath>

#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_flags.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// A = (A^0, A^1) on a 2x2 grid: A^0 = [[1,2],[3,4]] (sum 10), A^1 = [[4,0],[0,0]] (sum 4).
torch::Tensor hand_activations() {
  return torch::tensor({1.f, 2.f, 3.f, 4.f, 4.f, 0.f, 0.f, 0.f}).view({1, 2, 2, 2});
}

std::unique_ptr<Model> load(const std::string& name, const char* source,
                            const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                            int channels = 2, int classes = 2) {
  return std::make_unique<Model>(
      test::load_scripted_model(name, source, parameters, test::simple_meta_json(2, 2, channels, classes)));
}

class SpatialGradient : public ::testing::Test {
 protected:
  void SetUp() override {
    // Class 0: V^0 = [[1,-1],[0,2]], V^1 = [[0.5,0],[1,0]]; class 1: all zero. z = (1-2+8 + 2, 0) = (9, 0).
    auto v = torch::zeros({2, 2, 2, 2});
    v[0][0] = torch::tensor({{1.f, -1.f}, {0.f, 2.f}});
    v[0][1] = torch::tensor({{0.5f, 0.f}, {1.f, 0.f}});
    model_ = load("spatial", test::kSpatialLinearSource, {{"v", v}});
  }
  CamBatch batch() {
    CamBatch b(*model_, hand_activations(), BatchNeeds::logit_gradients());
    b.set_targets(torch::tensor({0}));
    return b;
  }
  std::unique_ptr<Model> model_;
};

TEST_F(SpatialGradient, GradCamPlusPlusClosedForm) {
  // alpha = g^2 / (2 g^2 + (sum_ab A^k_ab) g^3):
  //   channel 0 (sum 10), g = 1, -1, 0, 2: alpha = 1/12, (relu(g) = 0), 0, 4/88 -> w0 = 1/12 + 2/22 =
  //   0.1742424 channel 1 (sum 4),  g = 0.5, 0, 1, 0: alpha = 0.25/(0.5 + 0.5) = 0.25, 0, 1/6, 0 -> w1 =
  //   0.125 + 1/6
  auto b = batch();
  const CamResult r = make_cam_method("grad_cam_pp")->compute(b);
  const float w0 = 1.f / 12 + 2.f / 22, w1 = 0.125f + 1.f / 6;
  test::expect_tensor_near(r.weights, torch::tensor({{w0, w1}}), 1e-5);
  // w0 A^0 + w1 A^1 = [[w0 + 4 w1, 2 w0], [3 w0, 4 w0]]: min 2 w0, max w0 + 4 w1.
  const float lo = 2 * w0, range = w0 + 4 * w1 - lo;
  test::expect_tensor_near(r.maps, torch::tensor({{{1.f, 0.f}, {w0 / range, 2 * w0 / range}}}), 1e-5);
}

TEST_F(SpatialGradient, XGradCamWeights) {
  // A^0 / 10 = (0.1, 0.2, 0.3, 0.4) . g (1, -1, 0, 2) = 0.7;  A^1 / 4 = (1, 0, 0, 0) . g (0.5, 0, 1, 0) =
  // 0.5.
  auto b = batch();
  const CamResult r = make_cam_method("xgrad_cam")->compute(b);
  test::expect_tensor_near(r.weights, torch::tensor({{0.7f, 0.5f}}), 1e-5);
}

TEST(GradCamPlusPlus, AlphaIsZeroWhereTheGradientIsZero) {
  // A head that ignores channel 1: its gradient is 0, so its alpha and weight are 0 (not NaN).
  auto v = torch::zeros({2, 2, 2, 2});
  v[0][0] = torch::ones({2, 2});
  auto model = load("gpp-zero", test::kSpatialLinearSource, {{"v", v}});
  CamBatch b(*model, hand_activations(), BatchNeeds::logit_gradients());
  b.set_targets(torch::tensor({0}));
  const CamResult r = make_cam_method("grad_cam_pp")->compute(b);
  EXPECT_TRUE(torch::isfinite(r.weights).all().item<bool>());
  EXPECT_FLOAT_EQ(r.weights[0][1].item<float>(), 0.f);
}

// Global average pooling then linear, W = [[1,-1],[0.5,2]], b = bias.
std::unique_ptr<Model> gap_model(const std::string& name, torch::Tensor bias) {
  return load(name, test::kGapLinearSource,
              {{"weight", torch::tensor({{1.f, -1.f}, {0.5f, 2.f}})}, {"bias", std::move(bias)}});
}

TEST(ScoreCam, HandCaseWithBaselineAndConstantChannel) {
  // A^0 = [[1,2],[3,4]], A^1 = 5 everywhere (constant: its mask s(U(A^1)) is all zero, so its weight is
  // p(0) - p(0) = 0). Input = A (identity features; H = h, so U is the identity).
  // Clean: mean A = (2.5, 5), z = (-2.5, 11.25): target 1. Baseline z(0) = b = (0, 1): p_1 = 1/(1 + e^-1).
  // M0 = [[0,1/3],[2/3,1]]; x * M0 has means (5/3, 2.5): z = (5/3 - 2.5, 5/6 + 5 + 1) -> p_1 = 1/(1 +
  // e^(-23/3)).
  auto model = gap_model("score", torch::tensor({0.f, 1.f}));
  const auto a =
      torch::cat({torch::tensor({1.f, 2.f, 3.f, 4.f}).view({1, 1, 2, 2}), torch::full({1, 1, 2, 2}, 5.f)}, 1);
  CamBatch b(*model, a, BatchNeeds{});
  b.set_targets(torch::tensor({1}));
  CamSettings settings;
  settings.full_batch_size = 1;
  const CamResult r = make_cam_method("score_cam", settings)->compute(b);
  const double baseline = 1 / (1 + std::exp(-1.0)), masked = 1 / (1 + std::exp(-23.0 / 3));
  test::expect_tensor_near(r.weights, torch::tensor({{static_cast<float>(masked - baseline), 0.f}}), 1e-5);
  test::expect_tensor_near(r.maps, torch::tensor({{{0.f, 1.f / 3}, {2.f / 3, 1.f}}}), 1e-5);
}

TEST(ScoreCam, MasksAreNormalisedAfterUpsampling) {
  // U of [2, 6] from 1x2 to 1x4 (align_corners = false: source x = (x' + 0.5) / 2 - 0.5, clamped at the ends)
  // is [2, 3, 5, 6]; Score-CAM's mask s(U(A^k)) is then [0, 1/4, 3/4, 1].
  const auto up = upsample(torch::tensor({{{2.f, 6.f}}}), 1, 4);
  test::expect_tensor_near(up, torch::tensor({{{2.f, 3.f, 5.f, 6.f}}}), 1e-5);
  test::expect_tensor_near(minmax_normalise(up), torch::tensor({{{0.f, 0.25f, 0.75f, 1.f}}}), 1e-5);
}

TEST(AblationCam, GapHeadDropIsWeightTimesChannelMean) {
  // Invariant: y - y_k = W_ck * mean_ij A^k. Target 1: y = 3.25, drops (0.5 * 2.5, 2 * 1) = (1.25, 2).
  auto model = gap_model("ablation", torch::zeros({2}));
  CamBatch b(*model, hand_activations(), BatchNeeds{});
  b.set_targets(torch::tensor({1}));
  CamSettings settings;
  settings.ablation_score = ScoreKind::kLogit;
  settings.head_batch_size = 1;
  const CamResult r = make_cam_method("ablation_cam", settings)->compute(b);
  test::expect_tensor_near(r.weights, torch::tensor({{1.25f / 3.25f, 2.f / 3.25f}}), 1e-5);
  // 1.25 A^0 + 2 A^1 = [[9.25, 2.5], [3.75, 5]] -> (x - 2.5) / 6.75.
  test::expect_tensor_near(r.maps, torch::tensor({{{1.f, 0.f}, {1.25f / 6.75f, 2.5f / 6.75f}}}), 1e-5);
  EXPECT_EQ(r.flags[0].item<int>(), 0);
}

TEST(AblationCam, NonPositiveScoreIsFlaggedNotHidden) {
  // With bias -5 on class 0, its logit is 1.5 - 5 = -3.5 <= 0: the weights flip sign and the image is
  // flagged.
  auto model = gap_model("ablation-negative", torch::tensor({-5.f, 0.f}));
  CamBatch b(*model, hand_activations(), BatchNeeds{});
  b.set_targets(torch::tensor({0}));
  CamSettings settings;
  settings.ablation_score = ScoreKind::kLogit;
  settings.head_batch_size = 512;
  const CamResult r = make_cam_method("ablation_cam", settings)->compute(b);
  EXPECT_EQ(r.flags[0].item<int>(), static_cast<int>(kFlagAblationNegativeScore));
  // Drops are W_0k mean A^k = (2.5, -1); divided by y = -3.5.
  test::expect_tensor_near(r.weights, torch::tensor({{2.5f / -3.5f, -1.f / -3.5f}}), 1e-5);
}

}  // namespace
}  // namespace pixab
