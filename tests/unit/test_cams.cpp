// CAM methods against numbers computed by hand, and the invariants of methods.md they must satisfy.
#include <gtest/gtest.h>

#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// The hand-checkable case: K = 2 channels on a 2x2 grid, a head z = W mean_ij(A) + b with 2 classes.
//   A^0 = [[1,2],[3,4]], A^1 = [[4,0],[0,0]];  W = [[1,-1],[0.5,2]], b = 0
//   mean A = (2.5, 1) so z = (1.5, 3.25): the predicted class is 1.
class HandCase : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = std::make_unique<Model>(test::load_scripted_model(
        "cams", test::kGapLinearSource,
        {{"weight", torch::tensor({{1.0f, -1.0f}, {0.5f, 2.0f}})}, {"bias", torch::zeros({2})}},
        test::simple_meta_json(2, 2, 2, 2)));
  }

  CamBatch batch(std::int64_t target) {
    const auto a = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f, 4.0f, 0.0f, 0.0f, 0.0f}).view({1, 2, 2, 2});
    CamBatch b(*model_, a, BatchNeeds::logit_gradients());
    b.set_targets(torch::tensor({target}));
    return b;
  }

  std::unique_ptr<Model> model_;
};

TEST_F(HandCase, LogitsAreTheLinearHead) {
  auto b = batch(1);
  test::expect_tensor_near(b.logits(), torch::tensor({{1.5f, 3.25f}}), 1e-6);
}

TEST_F(HandCase, GradCamWeightsAreHeadWeightsOverCellCount) {
  // Invariant: with a GAP + linear head, Grad-CAM's w_k = W_ck / (h*w) = (0.5, 2) / 4.
  auto b = batch(1);
  const CamResult result = make_cam_method("grad_cam")->compute(b);
  test::expect_tensor_near(result.weights, torch::tensor({{0.125f, 0.5f}}), 1e-6);
  // CAM = 0.5 A^0 + 2 A^1 = [[8.5, 1], [1.5, 2]]; s(ReLU(CAM)) = (CAM - 1) / 7.5.
  test::expect_tensor_near(result.maps, torch::tensor({{{1.0f, 0.0f}, {0.5f / 7.5f, 1.0f / 7.5f}}}), 1e-6);
}

TEST_F(HandCase, GradCamEqualsNormalisedClassActivationMapping) {
  // Zhou et al.'s CAM_ij = sum_k W_ck A^k_ij; for class 0: A^0 - A^1 = [[-3, 2], [3, 4]] -> ReLU -> / 4.
  auto b = batch(0);
  const CamResult result = make_cam_method("grad_cam")->compute(b);
  test::expect_tensor_near(result.weights, torch::tensor({{0.25f, -0.25f}}), 1e-6);
  test::expect_tensor_near(result.maps, torch::tensor({{{0.0f, 0.5f}, {0.75f, 1.0f}}}), 1e-6);
}

TEST_F(HandCase, ActivationCamSumsChannels) {
  // sum_k A^k = [[5, 2], [3, 4]] -> (x - 2) / 3.
  auto b = batch(1);
  const CamResult result = make_cam_method("activation_cam")->compute(b);
  test::expect_tensor_near(result.maps, torch::tensor({{{1.0f, 0.0f}, {1.0f / 3.0f, 2.0f / 3.0f}}}), 1e-6);
  test::expect_tensor_near(result.weights, torch::ones({1, 2}), 1e-6);
}

TEST(CamMath, ConstantMapNormalisesToZeroNotNan) {
  const auto maps = torch::full({2, 3, 3}, 7.0f);
  const auto s = minmax_normalise(maps);
  EXPECT_TRUE(torch::equal(s, torch::zeros_like(maps)));
}

TEST(CamMath, NormalisationIsPerImage) {
  const auto maps = torch::stack({torch::tensor({{0.0f, 2.0f}}), torch::tensor({{10.0f, 30.0f}})});
  test::expect_tensor_near(minmax_normalise(maps), torch::tensor({{{0.0f, 1.0f}}, {{0.0f, 1.0f}}}), 1e-6);
}

TEST(CamMath, WeightedCamAllNegativeIsAllZero) {
  // ReLU removes everything: the only case in which a map may be all zero.
  const auto a = torch::ones({1, 2, 2, 2});
  const auto w = torch::tensor({{-1.0f, -0.5f}});
  EXPECT_TRUE(torch::equal(weighted_cam(a, w), torch::zeros({1, 2, 2})));
}

TEST(CamRegistry, UnknownMethodNamesTheKnownOnes) {
  try {
    make_cam_method("gradcam");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("grad_cam"), std::string::npos);
  }
  for (const auto& id : implemented_cam_methods()) EXPECT_EQ(make_cam_method(id)->id(), id);
}

TEST(CamBatchSharing, BatchedResultsEqualOneByOne) {
  // Images are independent: a batch of three gives each image's own maps, whatever the batch composition.
  torch::manual_seed(3);
  const Model model = test::load_scripted_model(
      "cams-batch", test::kGapLinearSource, {{"weight", torch::randn({4, 3})}, {"bias", torch::randn({4})}},
      test::simple_meta_json(5, 5, 3, 4));
  const auto inputs = torch::rand({3, 3, 5, 5});
  CamBatch all(model, inputs, BatchNeeds::logit_gradients());
  all.set_targets(std::get<1>(all.logits().max(1)));
  const auto batched = make_cam_method("grad_cam")->compute(all).maps;
  for (int i = 0; i < 3; ++i) {
    CamBatch one(model, inputs.slice(0, i, i + 1), BatchNeeds::logit_gradients());
    one.set_targets(std::get<1>(one.logits().max(1)));
    test::expect_tensor_near(make_cam_method("grad_cam")->compute(one).maps[0], batched[i], 1e-5);
  }
}

}  // namespace
}  // namespace pixab
