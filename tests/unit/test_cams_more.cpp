// The methods beyond the paper (docs/methods.md, "More methods") against maps and weights worked out by hand
// in the comments, on heads whose gradients, Hessians and logits are known in closed form.
#include <gtest/gtest.h>

#include <cmath>

#include "io/error.hpp"
#include "io/rng.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// A^0 = [[1,2],[3,4]], A^1 = [[4,0],[0,-2]] on a 2x2 grid: one negative activation, so that a rectified
// gradient and a rectified product differ.
torch::Tensor hand_activations() {
  return torch::tensor({1.f, 2.f, 3.f, 4.f, 4.f, 0.f, 0.f, -2.f}).view({1, 2, 2, 2});
}

Model load(const std::string& name, const char* source,
           const std::vector<std::pair<std::string, torch::Tensor>>& parameters, int channels, int classes,
           int grid = 2) {
  return test::load_scripted_model(name, source, parameters,
                                   test::simple_meta_json(grid, grid, channels, classes));
}

CamResult run(const std::string& id, const Model& model, const torch::Tensor& activations, int64_t target,
              const CamSettings& settings = {}) {
  const auto method = make_cam_method(id, settings);
  CamBatch batch(model, activations, method->spec().needs);
  batch.set_targets(torch::tensor({target}));
  batch.set_item_ids({"item"});
  return method->compute(batch);
}

// z_c = sum V_c ⊙ A with, for class 1, V^0 = [[1,1],[1,-1]] and V^1 = [[-1,0],[0,-1]]: the gradient g = V_1.
// g ⊙ A: channel 0 = [[1,2],[3,-4]], channel 1 = [[-4,0],[0,2]].
class ElementwiseGradients : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = torch::zeros({2, 2, 2, 2});
    v[1][0] = torch::tensor({{1.f, 1.f}, {1.f, -1.f}});
    v[1][1] = torch::tensor({{-1.f, 0.f}, {0.f, -1.f}});
    model_ = std::make_unique<Model>(load("spatial", test::kSpatialLinearSource, {{"v", v}}, 2, 2));
  }
  std::unique_ptr<Model> model_;
};

TEST_F(ElementwiseGradients, HiResCamSumsTheProductsBeforeTheReLU) {
  // sum_k g ⊙ A = [[-3,2],[3,-2]] -> ReLU [[0,2],[3,0]] -> s: [[0,2/3],[1,0]].
  const CamResult r = run("hires_cam", *model_, hand_activations(), 1);
  test::expect_tensor_near(r.maps, torch::tensor({{{0.f, 2.f / 3}, {1.f, 0.f}}}), 1e-6);
  EXPECT_FALSE(r.weights.defined());
}

TEST_F(ElementwiseGradients, ElementwiseGradCamRectifiesEachChannel) {
  // ReLU(channel 0) + ReLU(channel 1) = [[1,2],[3,0]] + [[0,0],[0,2]] = [[1,2],[3,2]] -> s:
  // [[0,1/2],[1,1/2]].
  const CamResult r = run("grad_cam_elementwise", *model_, hand_activations(), 1);
  test::expect_tensor_near(r.maps, torch::tensor({{{0.f, 0.5f}, {1.f, 0.5f}}}), 1e-6);
}

TEST_F(ElementwiseGradients, LayerCamRectifiesTheGradient) {
  // ReLU(g): channel 0 [[1,1],[1,0]], channel 1 all 0; ReLU(g) ⊙ A summed = [[1,2],[3,0]] -> s:
  // [[1/3,2/3],[1,0]]. (Cell (1,1): g = -1 and A = -2 in channel 1 give +2 to the element-wise map but
  // nothing here.)
  const CamResult r = run("layer_cam", *model_, hand_activations(), 1);
  test::expect_tensor_near(r.maps, torch::tensor({{{1.f / 3, 2.f / 3}, {1.f, 0.f}}}), 1e-6);
}

// Columns of X (cells in row-major order): A^0 = [[4,0],[0,0]] centres to (3,-1,-1,-1), A^1 = [[1,2],[2,-1]]
// to (0,1,1,-2). They are orthogonal, with squared norms 12 and 6.
torch::Tensor orthogonal_activations() {
  return torch::tensor({4.f, 0.f, 0.f, 0.f, 1.f, 2.f, 2.f, -1.f}).view({1, 2, 2, 2});
}

TEST(EigenCam, ProjectsOnTheLargestComponentWithThePositiveSign) {
  // The first right singular vector is channel 0's axis: X v = ±(3,-1,-1,-1); the rule makes 3 positive;
  // ReLU and s give [[1,0],[0,0]].
  auto model =
      load("gap", test::kGapLinearSource, {{"weight", torch::ones({3, 2})}, {"bias", torch::zeros(3)}}, 2, 3);
  const CamResult r = run("eigen_cam", model, orthogonal_activations(), 0);
  test::expect_tensor_near(r.maps, torch::tensor({{{1.f, 0.f}, {0.f, 0.f}}}), 1e-5);
  // No gradients and no target: every class gets the same map.
  test::expect_tensor_near(run("eigen_cam", model, orthogonal_activations(), 2).maps, r.maps, 0);
}

TEST(EigenCam, FlipsWhenTheLargestMagnitudeIsNegative) {
  // Rank 1: A^0 = [[4,4],[4,0]] centres to (1,1,1,-3) and A^1 = 2 A^0. X v = ±√5 (1,1,1,-3); |-3| > 1, so the
  // sign is flipped to √5 (-1,-1,-1,3): ReLU and s give [[0,0],[0,1]].
  const auto a = torch::tensor({4.f, 4.f, 4.f, 0.f, 8.f, 8.f, 8.f, 0.f}).view({1, 2, 2, 2});
  test::expect_tensor_near(first_principal_projection(a),
                           std::sqrt(5.f) * torch::tensor({{{-1.f, -1.f}, {-1.f, 3.f}}}), 1e-5);
  auto model =
      load("gap", test::kGapLinearSource, {{"weight", torch::ones({1, 2})}, {"bias", torch::zeros(1)}}, 2, 1);
  test::expect_tensor_near(run("eigen_cam", model, a, 0).maps, torch::tensor({{{0.f, 0.f}, {0.f, 1.f}}}),
                           1e-5);
}

TEST(EigenCam, ProjectionIsTheFirstSingularPairOnEitherSideOfTheGramMatrix) {
  // X v = σ₁ u₁ from the SVD of the centred hw x K matrix, with the sign rule applied: for more channels than
  // cells (the hw x hw Gram matrix is used) and for fewer (the K x K one).
  torch::manual_seed(5);
  for (const auto& shape : {std::vector<int64_t>{2, 6, 2, 2}, std::vector<int64_t>{2, 3, 3, 2}}) {
    const auto a = torch::randn(shape);
    const auto x = a.flatten(2).transpose(1, 2).to(torch::kDouble);
    const auto [u, s, vh] = torch::linalg_svd(x - x.mean(1, true), /*full_matrices=*/false);
    auto expected = u.select(2, 0) * s.select(1, 0).unsqueeze(1);
    const auto flip = std::get<0>(expected.min(1)).abs() > std::get<0>(expected.max(1)).abs();
    expected = torch::where(flip.unsqueeze(1), -expected, expected).to(torch::kFloat);
    test::expect_tensor_near(first_principal_projection(a), expected.view({shape[0], shape[2], shape[3]}), 1e-5);
  }
}

TEST(EigenCam, ConstantActivationsGiveAnAllZeroMap) {
  auto model =
      load("gap", test::kGapLinearSource, {{"weight", torch::ones({1, 2})}, {"bias", torch::zeros(1)}}, 2, 1);
  const CamResult r = run("eigen_cam", model, torch::full({1, 2, 2, 2}, 3.f), 0);
  test::expect_tensor_near(r.maps, torch::zeros({1, 2, 2}), 0);
}

TEST(EigenGradCam, TheTargetsGradientChoosesTheComponent) {
  // GAP-linear head: g^k = W_ck / 4 in every cell, so g ⊙ A scales the orthogonal columns by W_ck / 4.
  // Class 0, W = (1, 3): squared norms 12/16 < 6·9/16: X v = ±(3/4)(0,1,1,-2), flipped to (0,-1,-1,2)·3/4:
  // [[0,0],[0,1]]. Class 1, W = (3, 1): 12·9/16 > 6/16: ±(3/4)(3,-1,-1,-1): [[1,0],[0,0]].
  auto model = load("gap", test::kGapLinearSource,
                    {{"weight", torch::tensor({{1.f, 3.f}, {3.f, 1.f}})}, {"bias", torch::zeros(2)}}, 2, 2);
  test::expect_tensor_near(run("eigen_grad_cam", model, orthogonal_activations(), 0).maps,
                           torch::tensor({{{0.f, 0.f}, {0.f, 1.f}}}), 1e-5);
  test::expect_tensor_near(run("eigen_grad_cam", model, orthogonal_activations(), 1).maps,
                           torch::tensor({{{1.f, 0.f}, {0.f, 0.f}}}), 1e-5);
}

TEST(Fem, WeightsAreTheShareOfCellsAboveTheKSigmaThreshold) {
  // 3x3 grid. A^0: one cell 9, the rest 0: mean 1, std √8 = 2.83. A^1: all 5 (std 0: nothing is strictly
  // above the mean). A^2: two cells 9: mean 2, std √(2·49 + 7·4)/3 = 3.74.
  // k = 2: thresholds 6.66, 5, 9.48 -> w = (1/9, 0, 0). k = 1: 3.83, 5, 5.74 -> w = (1/9, 0, 2/9).
  auto a = torch::zeros({1, 3, 3, 3});
  a[0][0][0][0] = 9;
  a[0][1].fill_(5);
  a[0][2][1][1] = 9;
  a[0][2][2][2] = 9;
  auto model = load("gap3", test::kGapLinearSource,
                    {{"weight", torch::ones({1, 3})}, {"bias", torch::zeros(1)}}, 3, 1, 3);
  CamResult r = run("fem", model, a, 0);
  test::expect_tensor_near(r.weights, torch::tensor({{1.f / 9, 0.f, 0.f}}), 1e-6);
  // w0 A^0 has one non-zero cell.
  auto expected = torch::zeros({1, 3, 3});
  expected[0][0][0] = 1;
  test::expect_tensor_near(r.maps, expected, 1e-6);

  CamSettings one_sigma;
  one_sigma.fem_sigmas = 1;
  r = run("fem", model, a, 0, one_sigma);
  test::expect_tensor_near(r.weights, torch::tensor({{1.f / 9, 0.f, 2.f / 9}}), 1e-6);
}

// Features = identity, z_c = sum V_c ⊙ A²: g = 2 V_c ⊙ A and H A = 2 V_c ⊙ A, so g - H A / 2 = V_c ⊙ A.
constexpr const char* kQuadraticSource = R"(
def features(self, x):
    return x

def head(self, a):
    return torch.sum((a * a).unsqueeze(1) * self.v, [2, 3, 4])

def forward(self, x):
    return self.head(self.features(x))
)";

TEST(ShapleyCam, SubtractsHalfTheHessianVectorProduct) {
  // Class 0: V^0 = [[1,-1],[0,2]], V^1 = [[0.5,0],[1,0]]. V ⊙ A: channel 0 (1,-2,0,8), mean 1.75; channel 1
  // (2,0,0,0), mean 0.5. Grad-CAM's weights are the mean of g = 2 V ⊙ A: twice these.
  auto v = torch::zeros({1, 2, 2, 2});
  v[0][0] = torch::tensor({{1.f, -1.f}, {0.f, 2.f}});
  v[0][1] = torch::tensor({{0.5f, 0.f}, {1.f, 0.f}});
  auto model = load("quadratic", kQuadraticSource, {{"v", v}}, 2, 1);
  test::expect_tensor_near(run("shapley_cam", model, hand_activations(), 0).weights,
                           torch::tensor({{1.75f, 0.5f}}), 1e-5);
  test::expect_tensor_near(run("grad_cam", model, hand_activations(), 0).weights,
                           torch::tensor({{3.5f, 1.f}}), 1e-5);
}

TEST(ShapleyCam, EqualsGradCamOnAHeadLinearInA) {
  auto model = load("gap", test::kGapLinearSource,
                    {{"weight", torch::tensor({{1.f, -2.f}, {3.f, 1.f}})}, {"bias", torch::zeros(2)}}, 2, 2);
  const CamResult shapley = run("shapley_cam", model, hand_activations(), 1);
  test::expect_tensor_near(shapley.weights, run("grad_cam", model, hand_activations(), 1).weights, 0);
  test::expect_tensor_near(shapley.weights, torch::tensor({{0.75f, 0.25f}}), 1e-6);  // W_1 / (h w)
}

// GAP-linear head: z = W mean(A) + b, mean(A) = (2.5, 0.5). Rows of W: (1,0), (0,1), (1,1), (-1,0); biases
// chosen so that z = (3, 2, 2.5, 0).
class FinerCamTest : public ::testing::Test {
 protected:
  Model model(const std::vector<float>& biases) {
    const auto weight = torch::tensor({{1.f, 0.f}, {0.f, 1.f}, {1.f, 1.f}, {-1.f, 0.f}});
    return load("finer", test::kGapLinearSource, {{"weight", weight}, {"bias", torch::tensor(biases)}}, 2, 4);
  }
  const std::vector<float> kLogits32520{0.5f, 1.5f, -0.5f, 2.5f};  // z = (3, 2, 2.5, 0)
};

TEST_F(FinerCamTest, ContrastsTheTargetWithItsClosestClassesWeightedByProbability) {
  // Target 0 (z = 3); closest classes: 2 (distance 0.5) and 1 (distance 1); class 3 (distance 3) is left out.
  // Shares p_j / (p_1 + p_2): class 2 σ(0.5) = 0.6224593, class 1 0.3775407. The score's gradient per cell is
  // (W_0 - 0.3775407 W_1 - 0.6224593 W_2) / 4 = (0.3775407, -1) / 4.
  CamSettings two;
  two.finer.comparisons = 2;
  const CamResult r = run("finer_cam", model(kLogits32520), hand_activations(), 0, two);
  test::expect_tensor_near(r.weights, torch::tensor({{0.3775407f / 4, -0.25f}}), 1e-6);
  // w0 A^0 + w1 A^1 = [[0.0943852 - 1, 0.1887704], [0.2831555, 0.3775407 + 0.5]]: ReLU, then / 0.8775407.
  test::expect_tensor_near(
      r.maps, torch::tensor({{{0.f, 0.1887704f / 0.8775407f}, {0.2831555f / 0.8775407f, 1.f}}}), 1e-5);
}

TEST_F(FinerCamTest, AlphaScalesTheComparison) {
  // Default comparisons (3) takes every other class: shares ∝ (e^2, e^2.5, e^0) over classes 1, 2, 3.
  CamSettings half;
  half.finer.alpha = 0.5;
  const double e1 = std::exp(2.0), e2 = std::exp(2.5), e3 = 1.0, sum = e1 + e2 + e3;
  const double w0 = 1 - 0.5 * (e2 / sum - e3 / sum), w1 = -0.5 * (e1 / sum + e2 / sum);
  const CamResult r = run("finer_cam", model(kLogits32520), hand_activations(), 0, half);
  test::expect_tensor_near(r.weights,
                           torch::tensor({{static_cast<float>(w0 / 4), static_cast<float>(w1 / 4)}}), 1e-6);
}

TEST_F(FinerCamTest, EquallyCloseClassesAreTakenInClassOrder) {
  // z = (3, 2, 4, 0): classes 1 and 2 are both at distance 1; one comparison takes class 1: (W_0 - W_1) / 4.
  CamSettings one;
  one.finer.comparisons = 1;
  const CamResult r = run("finer_cam", model({0.5f, 1.5f, 1.f, 2.5f}), hand_activations(), 0, one);
  test::expect_tensor_near(r.weights, torch::tensor({{0.25f, -0.25f}}), 1e-6);
}

TEST_F(FinerCamTest, OneClassModelIsGradCam) {
  auto model = load("one", test::kGapLinearSource,
                    {{"weight", torch::tensor({{2.f, -1.f}})}, {"bias", torch::zeros(1)}}, 2, 1);
  test::expect_tensor_near(run("finer_cam", model, hand_activations(), 0).weights,
                           run("grad_cam", model, hand_activations(), 0).weights, 1e-7);
}

TEST(RandomCam, WeightsComeFromTheItemsOwnGenerator) {
  auto model =
      load("gap", test::kGapLinearSource, {{"weight", torch::ones({1, 2})}, {"bias", torch::zeros(1)}}, 2, 1);
  CamSettings seeded;
  seeded.seed = 7;
  const auto method = make_cam_method("random_cam", seeded);
  const auto two = torch::cat({hand_activations(), hand_activations()});
  CamBatch pair(model, two, method->spec().needs);
  pair.set_targets(torch::tensor({0, 0}));
  pair.set_item_ids({"a", "b"});
  const torch::Tensor weights = method->compute(pair).weights;

  // Row b: 2 u - 1 for the first two uniform draws of PortableRng(item_seed(7, "b")), whatever the batch.
  PortableRng rng(item_seed(7, "b"));
  const float w0 = static_cast<float>(2 * rng.uniform() - 1), w1 = static_cast<float>(2 * rng.uniform() - 1);
  test::expect_tensor_near(weights[1], torch::tensor({w0, w1}), 0);
  EXPECT_FALSE(torch::equal(weights[0], weights[1]));
  EXPECT_TRUE((weights.abs() <= 1).all().item<bool>());

  CamBatch alone(model, hand_activations(), method->spec().needs);
  alone.set_targets(torch::tensor({0}));
  alone.set_item_ids({"b"});
  test::expect_tensor_near(method->compute(alone).weights[0], weights[1], 0);
  // Another seed, other weights.
  EXPECT_FALSE(torch::equal(make_cam_method("random_cam")->compute(alone).weights[0], weights[1]));
}

TEST(RandomCam, NeedsItemIds) {
  auto model =
      load("gap", test::kGapLinearSource, {{"weight", torch::ones({1, 2})}, {"bias", torch::zeros(1)}}, 2, 1);
  CamBatch batch(model, hand_activations(), BatchNeeds{});
  batch.set_targets(torch::tensor({0}));
  EXPECT_THROW(make_cam_method("random_cam")->compute(batch), std::logic_error);
}

TEST(ItemSeed, DependsOnSeedAndIdOnly) {
  EXPECT_EQ(item_seed(3, "img_001"), item_seed(3, "img_001"));
  EXPECT_NE(item_seed(3, "img_001"), item_seed(4, "img_001"));
  EXPECT_NE(item_seed(3, "img_001"), item_seed(3, "img_002"));
}

TEST(CamMethodGroups, ResolveInRegistryOrder) {
  CamSettings settings;
  settings.variants.emplace_back("deletion", PixabSettings{});
  const std::vector<std::string> paper{"activation_cam", "grad_cam",     "grad_cam_pp", "xgrad_cam",
                                       "score_cam",      "ablation_cam", "pixab_cam",   "pixab_cam@deletion"};
  EXPECT_EQ(resolve_cam_method_names({}, settings), paper);
  EXPECT_EQ(resolve_cam_method_names({"all"}, settings), paper);
  const std::vector<std::string> extra{
      "hires_cam", "grad_cam_elementwise", "layer_cam", "shapley_cam", "finer_cam",
      "eigen_cam", "eigen_grad_cam",       "fem",       "random_cam"};
  EXPECT_EQ(resolve_cam_method_names({"extra"}, settings), extra);
  std::vector<std::string> every = paper;
  every.insert(every.end(), extra.begin(), extra.end());
  EXPECT_EQ(resolve_cam_method_names({"every"}, settings), every);
  EXPECT_EQ(resolve_cam_method_names({"every"}).size(), implemented_cam_methods().size());
  // A method a group also names keeps its first place; ids and groups mix.
  const std::vector<std::string> mixed{"layer_cam", "activation_cam", "grad_cam",     "grad_cam_pp",
                                       "xgrad_cam", "score_cam",      "ablation_cam", "pixab_cam"};
  EXPECT_EQ(resolve_cam_method_names({"layer_cam", "all"}), mixed);
  EXPECT_THROW(resolve_cam_method_names({"every", "every"}), ConfigError);
  EXPECT_THROW(resolve_cam_method_names({"most"}), ConfigError);
}

}  // namespace
}  // namespace pixab
