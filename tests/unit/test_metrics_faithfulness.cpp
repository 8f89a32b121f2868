// Faithfulness metrics against numbers computed by hand, and a model whose score is known in closed form.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/metrics/faithfulness.hpp"
#include "workers/metrics/metric_evaluator.hpp"

namespace pixab {
namespace {

TEST(Faithfulness, AverageDropAndIncreaseInConfidence) {
  EXPECT_DOUBLE_EQ(average_drop(0.8, 0.6), 25.0);  // 100 * 0.2 / 0.8
  EXPECT_DOUBLE_EQ(average_drop(0.8, 0.9), 0.0);   // a rise is no drop
  EXPECT_DOUBLE_EQ(average_drop(0.5, 0.0), 100.0);
  EXPECT_TRUE(std::isnan(average_drop(0.0, 0.1)));
  EXPECT_EQ(increase_in_confidence(0.8, 0.9), 1.0);
  EXPECT_EQ(increase_in_confidence(0.8, 0.8), 0.0);  // strictly greater
  EXPECT_EQ(increase_in_confidence(0.8, 0.6), 0.0);
}

TEST(Faithfulness, CompactnessIsTheSumOfTheMap) {
  EXPECT_DOUBLE_EQ(compactness(torch::tensor({{0.5f, 1.0f}, {0.0f, 0.25f}})), 1.75);
}

TEST(Faithfulness, TrapezoidAuc) {
  // Points 1, 0.5, 0 at t/steps = 0, 0.5, 1: (1 + 0.5)/2 * 0.5 + (0.5 + 0)/2 * 0.5 = 0.5.
  test::expect_tensor_near(trapezoid_auc(torch::tensor({{1.0f, 0.5f, 0.0f}, {1.0f, 1.0f, 1.0f}})),
                           torch::tensor({0.5f, 1.0f}), 1e-7);
  // Two points: one trapezoid over [0, 1].
  test::expect_tensor_near(trapezoid_auc(torch::tensor({{0.2f, 0.6f}})), torch::tensor({0.4f}), 1e-7);
}

TEST(Faithfulness, DeletionOrderIsDescendingWithTiesInRasterOrder) {
  // Values:  [[0.5, 0.9], [0.5, 0.1], [0.9, 0.5]] (raster 0..5). Descending: 0.9 (1), 0.9 (4), then the three
  // 0.5 in raster order (0, 2, 5), then 0.1 (3).
  const auto e = torch::tensor({0.5f, 0.9f, 0.5f, 0.1f, 0.9f, 0.5f}).view({1, 3, 2});
  const auto ranks = deletion_ranks(e);
  EXPECT_TRUE(torch::equal(ranks, torch::tensor({{2, 0, 3, 5, 1, 4}}, torch::kLong))) << ranks;
}

TEST(Faithfulness, LongTiesKeepRasterOrder) {
  // Every value equal: the order is the raster order itself, even past the sort's small-array paths.
  const auto ranks = deletion_ranks(torch::zeros({2, 40, 50}));
  EXPECT_TRUE(torch::equal(ranks[1], torch::arange(2000, torch::kLong)));
}

TEST(Faithfulness, StepSizes) {
  EXPECT_EQ(pixels_per_step(50176, 100), 502);  // 224 * 224: ceil(501.76)
  EXPECT_EQ(pixels_at_step(50176, 100, 99), 49698);
  EXPECT_EQ(pixels_at_step(50176, 100, 100), 50176);  // the last step takes what is left
  EXPECT_EQ(pixels_per_step(16, 4), 4);
  EXPECT_EQ(pixels_at_step(10, 4, 3), 9);
  EXPECT_EQ(pixels_at_step(10, 4, 4), 10);
}

TEST(Faithfulness, BlurIsOpenCvGaussian11Sigma5Reflect101) {
  for (const auto& [rows, cols] : std::vector<std::pair<int, int>>{{20, 17}, {5, 3}}) {
    torch::manual_seed(3);
    const auto image = torch::rand({1, 2, rows, cols});
    const auto blurred = rise_blur(image);
    for (int c = 0; c < 2; ++c) {
      const auto plane = image[0][c].contiguous();
      const cv::Mat in(rows, cols, CV_32FC1, plane.data_ptr<float>());
      cv::Mat expected;
      cv::GaussianBlur(in, expected, cv::Size(11, 11), 5.0, 5.0, cv::BORDER_REFLECT_101);
      const auto expected_t = torch::from_blob(expected.data, {rows, cols}, torch::kFloat).clone();
      test::expect_tensor_near(blurred[0][c], expected_t, 1e-5);
    }
  }
}

TEST(Faithfulness, BlurKeepsAConstantImage) {
  test::expect_tensor_near(rise_blur(torch::full({1, 3, 8, 8}, 0.25f)), torch::full({1, 3, 8, 8}, 0.25f), 1e-7);
}

// The closed-form model: features = identity, and p_0 = mean of the input (p_1 = 1 - p_0), so deleting pixels
// lowers p_0 by exactly their sum / H*W. (The clamp, a no-op on the inputs here, keeps the logits finite on
// the contract's random dry-run input.)
constexpr const char* kMeanScoreSource = R"(
def features(self, x):
    return x

def head(self, a):
    m = torch.mean(torch.clamp(a, 0.0, 0.99), [1, 2, 3])
    return torch.stack([torch.log(m), torch.log(1 - m)], 1)

def forward(self, x):
    return self.head(self.features(x))
)";

class MeanScoreModel : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = std::make_unique<Model>(
        test::load_scripted_model("mean-score", kMeanScoreSource, {}, test::simple_meta_json(4, 4, 1, 2)));
    // x_i = (i + 1) / 32 in raster order: mean 136 / 512.
    x_ = (torch::arange(1, 17, torch::kFloat) / 32).view({1, 1, 4, 4});
  }

  // images [B,1,4,4]; maps: (method id, L [B,4,4]); class 0 is every image's target.
  MetricArrays evaluate(const torch::Tensor& images,
                        const std::vector<std::pair<std::string, torch::Tensor>>& maps,
                        MetricSettings settings) {
    const int64_t n = images.size(0);
    CamBatch batch(*model_, images, BatchNeeds{});
    batch.set_targets(torch::zeros({n}, torch::kLong));
    MetricEvaluator evaluator(*model_, std::move(settings));
    return evaluator.evaluate(batch, maps, std::vector<std::vector<Box>>(static_cast<std::size_t>(n)));
  }

  MetricArrays evaluate(const torch::Tensor& map, MetricSettings settings) {
    return evaluate(x_, {{"m", map.view({1, 4, 4})}}, std::move(settings));
  }

  static torch::Tensor find(const MetricArrays& arrays, const std::string& path) {
    for (const auto& [p, t] : arrays) {
      if (p == path) return t;
    }
    ADD_FAILURE() << "no " << path;
    return {};
  }

  std::unique_ptr<Model> model_;
  torch::Tensor x_;
};

TEST_F(MeanScoreModel, DeletionCurveInClosedForm) {
  MetricSettings settings;
  settings.metrics = {"deletion_auc"};
  settings.steps = 4;  // 4 pixels per step
  // The map equals x: the largest values go first. After t steps the 4t largest values (16, 15, ...)/32 are
  // gone: y = (136 - sum of them) / 512.
  const auto arrays = evaluate(x_, settings);
  const auto expected = torch::tensor({{136.0f, 136.0f - 58, 136.0f - 100, 136.0f - 126, 0.0f}}) / 512;
  test::expect_tensor_near(find(arrays, "curves/m/deletion"), expected, 1e-6);
  // Trapezoid: (y0 + 2 y1 + 2 y2 + 2 y3 + y4) / 8.
  const double auc = (136.0 + 2 * 78 + 2 * 36 + 2 * 10 + 0) / 512 / 8;
  test::expect_tensor_near(find(arrays, "metrics/m/deletion_auc"), torch::tensor({static_cast<float>(auc)}), 1e-6);
}

TEST_F(MeanScoreModel, ReversedMapDeletesTheSmallestFirst) {
  MetricSettings settings;
  settings.metrics = {"deletion_auc"};
  settings.steps = 2;  // 8 pixels per step: the smallest 8 values 1..8 sum to 36
  const auto arrays = evaluate(1 - x_, settings);
  test::expect_tensor_near(find(arrays, "curves/m/deletion"),
                           torch::tensor({{136.0f, 100.0f, 0.0f}}) / 512, 1e-6);
}

TEST_F(MeanScoreModel, InsertionStartsBlurredAndEndsClean) {
  MetricSettings settings;
  settings.metrics = {"insertion_auc"};
  settings.steps = 4;
  const auto arrays = evaluate(x_, settings);
  const auto blurred = rise_blur(x_).flatten();
  const auto x = x_.flatten();
  // Step t: the 4t largest pixels (the last 4t in raster order) come from x, the rest from the blur.
  std::vector<float> expected;
  for (int t = 0; t <= 4; ++t) {
    const auto mixed = torch::cat({blurred.slice(0, 0, 16 - 4 * t), x.slice(0, 16 - 4 * t, 16)});
    expected.push_back(mixed.mean().item<float>());
  }
  test::expect_tensor_near(find(arrays, "curves/m/insertion"), torch::tensor(expected).view({1, 5}), 1e-6);
}

TEST_F(MeanScoreModel, AverageDropAndCompactnessThroughTheModel) {
  MetricSettings settings;
  settings.metrics = {"average_drop", "increase_in_confidence", "compactness"};
  // E = s(L) for L = [0, 1/15, ..., 1] (already normalised): O = mean(x * E).
  const auto map = torch::arange(0, 16, torch::kFloat) / 15;
  const double y = 136.0 / 512;
  const double o = (x_.flatten() * map).mean().item<double>();
  const auto arrays = evaluate(map, settings);
  test::expect_tensor_near(find(arrays, "metrics/m/average_drop"),
                           torch::tensor({static_cast<float>(100 * (y - o) / y)}), 1e-4);
  test::expect_tensor_near(find(arrays, "metrics/m/increase_in_confidence"), torch::tensor({0.0f}), 0);
  test::expect_tensor_near(find(arrays, "metrics/m/compactness"), torch::tensor({8.0f}), 1e-5);  // 120 / 15
}

// Every metric that needs the model, computed for 2 images x 2 methods in one evaluation, equals the same
// metric computed for each (image, method) alone: the rows of all images and methods share the passes and
// the host-side walk must find each one's scores (the blurred start of insertion is each image's last row).
TEST_F(MeanScoreModel, SeveralImagesAndMethodsMatchSingleEvaluations) {
  MetricSettings settings;
  settings.metrics = {"average_drop", "increase_in_confidence", "deletion_auc", "insertion_auc"};
  settings.steps = 4;
  settings.full_batch_size = 5;  // passes that cut across methods and images
  // A second image with another mean and another order of its values.
  const auto second =
      ((torch::arange(0, 16, torch::kLong) * 5 % 16 + 1).to(torch::kFloat) / 40).view({1, 1, 4, 4});
  const auto images = torch::cat({x_, second});
  const auto low = images.view({2, 4, 4});
  const std::vector<std::pair<std::string, torch::Tensor>> maps{{"x", low}, {"reversed", 1 - low}};
  const auto together = evaluate(images, maps, settings);
  ASSERT_EQ(together.size(), 2u * (4 + 2));  // per method: 4 metrics and 2 curves

  for (int64_t b = 0; b < 2; ++b) {
    for (const auto& [id, map] : maps) {
      const auto alone = evaluate(images.narrow(0, b, 1), {{id, map.narrow(0, b, 1)}}, settings);
      ASSERT_EQ(alone.size(), 4u + 2);
      for (const auto& [path, values] : alone) {
        SCOPED_TRACE(path + " of image " + std::to_string(b));
        test::expect_tensor_near(find(together, path)[b], values[0], 1e-6);
      }
    }
  }
}

// The blurred start of insertion is built from explanation 0 (image 0's first method) for every image: a
// NaN map there must not reach another image's curve.
TEST_F(MeanScoreModel, NaNMapOfOneImageLeavesTheOthersInsertionAlone) {
  MetricSettings settings;
  settings.metrics = {"insertion_auc"};
  settings.steps = 4;
  const auto images = torch::cat({x_, x_.flip({3})});
  const auto maps = torch::stack({torch::full({4, 4}, std::nanf("")), x_.view({4, 4})});
  const auto together = find(evaluate(images, {{"m", maps}}, settings), "curves/m/insertion");
  const auto alone =
      find(evaluate(images.narrow(0, 1, 1), {{"m", maps.narrow(0, 1, 1)}}, settings), "curves/m/insertion");
  EXPECT_TRUE(torch::isfinite(together[1]).all().item<bool>()) << together;
  test::expect_tensor_near(together[1], alone[0], 1e-6);
}

TEST_F(MeanScoreModel, LocalisationWithoutBoxesIsNaN) {
  MetricSettings settings;
  settings.metrics = {"pointing_game", "proportion", "loc_iou", "loc_correct"};
  for (const auto& [path, values] : evaluate(x_, settings)) EXPECT_TRUE(std::isnan(values[0].item<float>())) << path;
}

TEST(MetricSettingsCheck, UnknownRepeatedAndOutOfRange) {
  MetricSettings s;
  s.metrics = {"average_drop", "nope"};
  EXPECT_THROW(check_metric_settings(s), ConfigError);
  s.metrics = {"proportion", "proportion"};
  EXPECT_THROW(check_metric_settings(s), ConfigError);
  s.metrics = {"proportion"};
  s.steps = 0;
  EXPECT_THROW(check_metric_settings(s), ConfigError);
  s.steps = 100;
  s.loc_threshold = 1.5;
  EXPECT_THROW(check_metric_settings(s), ConfigError);
  s.loc_threshold = 0.15;
  EXPECT_NO_THROW(check_metric_settings(s));
}

}  // namespace
}  // namespace pixab
