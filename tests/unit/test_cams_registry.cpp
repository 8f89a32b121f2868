// The method registry (one entry per method, ids unique, declared needs equal to what compute() reads, the
// same errors as before) and the CamBatch's needs: gradients of a named score, the Hessian-vector product on
// a head whose Hessian is known in closed form.
#include <gtest/gtest.h>

#include <set>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// z_c = sum_kij W_ck (A^k_ij)^2: the Hessian of z_c with respect to A is diagonal, 2 W_ck, so H.A = 2 W_ck
// A^k and dz_c/dA is the same 2 W_ck A^k.
constexpr const char* kQuadraticHeadSource = R"(
def features(self, x):
    return x

def head(self, a):
    return torch.matmul(torch.sum(a * a, [2, 3]), self.weight.t())

def forward(self, x):
    return self.head(self.features(x))
)";

// A small CNN with a non-linear head (ReLU), so that every method's passes do real work.
constexpr const char* kSmallCnnSource = R"(
def features(self, x):
    return torch.relu(torch.conv2d(x, self.w1, self.b1, [2, 2], [1, 1]))

def head(self, a):
    y = torch.relu(torch.conv2d(a, self.w2, self.b2, [1, 1], [1, 1]))
    return torch.matmul(torch.mean(y, [2, 3]), self.w3.t()) + self.b3

def forward(self, x):
    return self.head(self.features(x))
)";

Model small_cnn() {
  torch::manual_seed(11);
  return test::load_scripted_model("registry-cnn", kSmallCnnSource,
                                   {{"w1", torch::randn({6, 3, 3, 3}) * 0.5},
                                    {"b1", torch::randn({6}) * 0.1},
                                    {"w2", torch::randn({5, 6, 3, 3}) * 0.3},
                                    {"b2", torch::randn({5}) * 0.1},
                                    {"w3", torch::randn({4, 5})},
                                    {"b3", torch::randn({4}) * 0.1}},
                                   test::simple_meta_json(8, 8, 3, 4));
}

TEST(CamRegistry, EveryImplementedIdHasOneSpecInOrder) {
  const auto& specs = cam_method_specs();
  ASSERT_EQ(specs.size(), implemented_cam_methods().size());
  std::set<std::string> seen;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i]->id, implemented_cam_methods()[i]);
    EXPECT_TRUE(seen.insert(specs[i]->id).second) << specs[i]->id << " twice";
    EXPECT_FALSE(specs[i]->title.empty()) << specs[i]->id;
    ASSERT_TRUE(specs[i]->make && specs[i]->passes) << specs[i]->id;
    const auto method = make_cam_method(specs[i]->id);
    EXPECT_EQ(&method->spec(), specs[i]);
    EXPECT_EQ(method->id(), specs[i]->id);
  }
  EXPECT_EQ(implemented_cam_methods(),
            (std::vector<std::string>{"activation_cam", "grad_cam", "grad_cam_pp", "xgrad_cam", "score_cam",
                                      "ablation_cam", "pixab_cam", "hires_cam", "grad_cam_elementwise", "layer_cam",
                                      "shapley_cam", "finer_cam", "eigen_cam", "eigen_grad_cam", "fem",
                                      "random_cam"}));
}

TEST(CamRegistry, DeclaredNeedsAreExactlyWhatComputeReads) {
  // Each method runs on a CamBatch built with its own declaration only: a method declaring no gradients runs
  // on a batch without the graph, and what it read (used()) is what it declared.
  const Model model = small_cnn();
  const auto inputs = torch::randn({2, 3, 8, 8});
  for (const CamMethodSpec* spec : cam_method_specs()) {
    CamBatch batch(model, inputs, spec->needs);
    EXPECT_EQ(batch.needs().keeps_graph(),
              !spec->needs.gradients.empty() || spec->needs.combined_logit_gradients) << spec->id;
    batch.set_targets(torch::tensor({1, 3}));
    batch.set_item_ids({"a", "b"});
    const CamResult result = spec->make(spec->id, {})->compute(batch);
    EXPECT_TRUE(batch.used() == spec->needs) << spec->id;
    EXPECT_EQ(result.weights.defined(), spec->channel_weights) << spec->id;
    std::vector<std::string> extra;
    for (const auto& [name, map] : result.extra_maps) extra.push_back(name);
    EXPECT_EQ(extra, spec->extra_maps) << spec->id;
  }
}

TEST(CamRegistry, GradientMethodsRefuseABatchWithoutGradients) {
  const Model model = small_cnn();
  CamBatch batch(model, torch::randn({1, 3, 8, 8}), BatchNeeds{});
  batch.set_targets(torch::tensor({0}));
  for (const char* id : {"grad_cam", "grad_cam_pp", "xgrad_cam", "hires_cam", "grad_cam_elementwise", "layer_cam",
                         "shapley_cam", "finer_cam", "eigen_grad_cam"}) {
    EXPECT_THROW(make_cam_method(id)->compute(batch), Error) << id;
  }
}

TEST(CamRegistry, MergedNeedsAreTheUnion) {
  const auto methods = make_cam_methods({"activation_cam", "grad_cam", "score_cam", "pixab_cam"});
  const BatchNeeds needs = merged_needs(methods);
  EXPECT_EQ(needs.gradients, std::set<ScoreKind>{ScoreKind::kLogit});
  EXPECT_TRUE(needs.zero_input_logits);
  EXPECT_TRUE(needs.zero_activation_logits);
  EXPECT_FALSE(needs.hessian_vector_product);
  EXPECT_FALSE(merged_needs(make_cam_methods({"activation_cam", "ablation_cam"})).keeps_graph());
}

TEST(CamRegistry, UnknownIdsKeepTheirErrors) {
  const std::string known =
      "(implemented: activation_cam, grad_cam, grad_cam_pp, xgrad_cam, score_cam, ablation_cam, pixab_cam, "
      "hires_cam, grad_cam_elementwise, layer_cam, shapley_cam, finer_cam, eigen_cam, eigen_grad_cam, fem, "
      "random_cam, pixab_cam@<variant>; groups: all, every, extra)";
  for (const std::string id : {"gradcam", "grad_cam@x", "pixab"}) {
    try {
      make_cam_method(id);
      ADD_FAILURE() << id << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), "unknown CAM method '" + id + "' " + known);
    }
  }
  try {
    make_cam_method("pixab_cam@other");
    ADD_FAILURE() << "pixab_cam@other accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "CAM method 'pixab_cam@other': no Pixab variant named 'other' in [pixab] variants");
  }
  EXPECT_THROW(make_cam_methods({"grad_cam", "grad_cam"}), ConfigError);
}

class QuadraticHead : public ::testing::Test {
 protected:
  void SetUp() override {
    weight_ = torch::tensor({{1.f, -2.f, 0.5f}, {3.f, 0.25f, -1.f}});
    model_ = std::make_unique<Model>(test::load_scripted_model(
        "quadratic-head", kQuadraticHeadSource, {{"weight", weight_}}, test::simple_meta_json(4, 3, 3, 2)));
    torch::manual_seed(3);
    a_ = torch::randn({2, 3, 4, 3});
  }
  // 2 W_ck A^k per image, c = targets[i]: both dz_c/dA and H.A.
  torch::Tensor twice_w_a(const torch::Tensor& targets) const {
    return 2 * weight_.index_select(0, targets).view({-1, 3, 1, 1}) * a_;
  }
  BatchNeeds hvp_needs() const {
    BatchNeeds needs = BatchNeeds::logit_gradients();
    needs.hessian_vector_product = true;
    return needs;
  }

  torch::Tensor weight_, a_;
  std::unique_ptr<Model> model_;
};

TEST_F(QuadraticHead, HessianVectorProductIsTwiceWeightTimesA) {
  CamBatch batch(*model_, a_, hvp_needs());
  const auto targets = torch::tensor({0, 1});
  batch.set_targets(targets);
  test::expect_tensor_near(batch.hessian_vector_product(), twice_w_a(targets), 1e-5);
  test::expect_tensor_near(batch.gradients(), twice_w_a(targets), 1e-5);
  EXPECT_TRUE(batch.used().hessian_vector_product);
}

TEST_F(QuadraticHead, HessianVectorProductIsPerImage) {
  CamBatch both(*model_, a_, hvp_needs());
  both.set_targets(torch::tensor({1, 0}));
  const auto batched = both.hessian_vector_product().clone();
  for (int64_t i = 0; i < 2; ++i) {
    CamBatch one(*model_, a_.slice(0, i, i + 1), hvp_needs());
    one.set_targets(torch::tensor({i == 0 ? 1 : 0}));
    test::expect_tensor_near(one.hessian_vector_product()[0], batched[i], 1e-6);
  }
}

TEST_F(QuadraticHead, ProbabilityGradientIsTheSoftmaxChainRule) {
  // dp_c/dA = p_c (dz_c/dA - sum_j p_j dz_j/dA), with dz_j/dA = 2 W_jk A^k.
  BatchNeeds needs;
  needs.gradients = {ScoreKind::kLogit, ScoreKind::kProbability};
  CamBatch batch(*model_, a_, needs);
  const auto targets = torch::tensor({0, 1});
  batch.set_targets(targets);
  const auto p = torch::softmax(batch.logits(), 1);  // [2,2]
  const auto g0 = twice_w_a(torch::tensor({0, 0})), g1 = twice_w_a(torch::tensor({1, 1}));
  const auto mean_g = p.select(1, 0).view({2, 1, 1, 1}) * g0 + p.select(1, 1).view({2, 1, 1, 1}) * g1;
  const auto pc = p.gather(1, targets.view({2, 1})).view({2, 1, 1, 1});
  test::expect_tensor_near(batch.gradients(ScoreKind::kProbability), pc * (twice_w_a(targets) - mean_g),
                           1e-5);
  test::expect_tensor_near(batch.gradients(ScoreKind::kLogit), twice_w_a(targets), 1e-5);
  EXPECT_EQ(batch.used().gradients, needs.gradients);
}

TEST(CamBatchNeeds, UndeclaredSecondOrderOrScoreIsRefused) {
  const Model model = test::load_scripted_model(
      "needs-gap", test::kGapLinearSource, {{"weight", torch::randn({2, 3})}, {"bias", torch::zeros({2})}},
      test::simple_meta_json(4, 4, 3, 2));
  CamBatch batch(model, torch::rand({2, 3, 4, 4}), BatchNeeds::logit_gradients());
  batch.set_targets(torch::tensor({0, 1}));
  EXPECT_THROW(batch.hessian_vector_product(), Error);
  EXPECT_THROW(batch.gradients(ScoreKind::kProbability), Error);
  EXPECT_NO_THROW(batch.gradients());
  // A head linear in A has a zero Hessian.
  BatchNeeds second_order;
  second_order.hessian_vector_product = true;
  CamBatch linear(model, torch::rand({2, 3, 4, 4}), second_order);
  linear.set_targets(torch::tensor({0, 1}));
  EXPECT_TRUE(linear.hessian_vector_product().eq(0).all().item<bool>());
}

}  // namespace
}  // namespace pixab
