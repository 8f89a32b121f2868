// Properties every method must have on a real (non-linear) network: maps finite and in [0,1], results
// independent of the batch sizes of the head and full passes and of how images are batched; and the settings'
// text parsers.
#include <gtest/gtest.h>

#include <set>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// A small CNN: conv + ReLU features on a 4x4 grid, a head with a non-linear spatial layer before pooling.
constexpr const char* kSmallCnnSource = R"(
def features(self, x):
    return torch.relu(torch.conv2d(x, self.w1, self.b1, [2, 2], [1, 1]))

def head(self, a):
    y = torch.relu(torch.conv2d(a, self.w2, self.b2, [1, 1], [1, 1]))
    return torch.matmul(torch.mean(y, [2, 3]), self.w3.t()) + self.b3

def forward(self, x):
    return self.head(self.features(x))
)";

class AllMethods : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(5);
    model_ = std::make_unique<Model>(test::load_scripted_model("all-methods", kSmallCnnSource,
                                                               {{"w1", torch::randn({6, 3, 3, 3}) * 0.5},
                                                                {"b1", torch::randn({6}) * 0.1},
                                                                {"w2", torch::randn({5, 6, 3, 3}) * 0.3},
                                                                {"b2", torch::randn({5}) * 0.1},
                                                                {"w3", torch::randn({4, 5})},
                                                                {"b3", torch::randn({4}) * 0.1}},
                                                               test::simple_meta_json(8, 8, 3, 4)));
    inputs_ = torch::randn({3, 3, 8, 8});
  }

  // Every method's maps for the given images, as one tensor per method id.
  // `first` is the index of inputs[0] among the fixture's images: its item id (Random-CAM's draws follow it).
  std::map<std::string, torch::Tensor> maps(const torch::Tensor& inputs, const CamSettings& settings,
                                            int64_t first = 0, const torch::Tensor& targets = {}) {
    std::map<std::string, torch::Tensor> out;
    const auto methods = make_cam_methods(resolve_cam_method_names({"every"}, settings), settings);
    CamBatch batch(*model_, inputs, merged_needs(methods));
    batch.set_targets(targets.defined() ? targets : std::get<1>(batch.logits().max(1)));
    std::vector<std::string> item_ids;
    for (int64_t i = 0; i < inputs.size(0); ++i) item_ids.push_back("item_" + std::to_string(first + i));
    batch.set_item_ids(item_ids);
    for (const auto& method : methods) out[method->id()] = method->compute(batch).maps;
    return out;
  }

  std::unique_ptr<Model> model_;
  torch::Tensor inputs_;
};

TEST_F(AllMethods, MapsAreFiniteInUnitRangeAndNotAllZero) {
  CamSettings settings;
  settings.variants.push_back(parse_pixab_variant("same-strict: padding=same strict=true", settings.pixab));
  for (const auto& [id, m] : maps(inputs_, settings)) {
    EXPECT_EQ(m.sizes(), (std::vector<int64_t>{3, 4, 4})) << id;
    EXPECT_TRUE(torch::isfinite(m).all().item<bool>()) << id;
    EXPECT_GE(m.min().item<float>(), 0.f) << id;
    EXPECT_LE(m.max().item<float>(), 1.f) << id;
    // s() maps the maximum of a non-constant map to exactly 1: a map is all zero only when ReLU removed
    // everything.
    for (int i = 0; i < 3; ++i) {
      const float peak = m[i].max().item<float>();
      EXPECT_TRUE(peak == 1.f || peak == 0.f) << id << " image " << i << " peak " << peak;
    }
  }
}

TEST_F(AllMethods, ResultsDoNotDependOnBatchSizes) {
  CamSettings large, small;
  small.head_batch_size = 7;  // not a divisor of K = 6 rows per image or of the placement count
  small.full_batch_size = 5;
  const auto reference = maps(inputs_, large);
  const auto rechunked = maps(inputs_, small);
  for (const auto& [id, m] : reference) {
    EXPECT_TRUE(torch::allclose(m, rechunked.at(id), 0, 1e-5)) << id;
  }
  // One image at a time gives the same maps as the batch of three.
  for (int i = 0; i < 3; ++i) {
    const auto single = maps(inputs_.slice(0, i, i + 1), small, i);
    for (const auto& [id, m] : reference) {
      EXPECT_TRUE(torch::allclose(m[i], single.at(id)[0], 0, 1e-5)) << id << " image " << i;
    }
  }
}

TEST_F(AllMethods, OnlyTheTargetFreeMethodsGiveOneMapForEveryTarget) {
  // Activation-CAM, Eigen-CAM, FEM and Random-CAM read no gradient and no score; every other method explains
  // the target it is given.
  const std::set<std::string> target_free{"activation_cam", "eigen_cam", "fem", "random_cam"};
  // The two most probable classes of each image (a class of low probability can leave Score-CAM all zero).
  torch::Tensor top2;
  {
    torch::NoGradGuard no_grad;
    top2 = std::get<1>(model_->forward(inputs_).topk(2, 1));
  }
  const auto first = maps(inputs_, {}, 0, top2.select(1, 0).contiguous());
  const auto second = maps(inputs_, {}, 0, top2.select(1, 1).contiguous());
  for (const auto& [id, m] : first) {
    if (target_free.count(id))
      EXPECT_TRUE(torch::equal(m, second.at(id))) << id;
    else
      EXPECT_FALSE(torch::allclose(m, second.at(id), 0, 1e-4)) << id;
  }
}

TEST(CamSettingsText, VariantsInheritAndOverride) {
  PixabSettings base;
  base.score = ScoreKind::kLogit;
  const auto [name, v] = parse_pixab_variant("b22-del: boxes=2x2,3x1 terms=deletion", base);
  EXPECT_EQ(name, "b22-del");
  EXPECT_EQ(v.boxes, (std::vector<std::pair<int, int>>{{2, 2}, {3, 1}}));
  EXPECT_EQ(v.terms, PixabSettings::Terms::kDeletion);
  EXPECT_EQ(v.score, ScoreKind::kLogit);  // inherited from the [pixab] table
  EXPECT_EQ(v.padding, PixabSettings::Padding::kFull);
}

TEST(CamSettingsText, BadTextIsAConfigError) {
  const PixabSettings base;
  EXPECT_THROW(parse_pixab_variant("no colon", base), ConfigError);
  EXPECT_THROW(parse_pixab_variant("x: boxes=2by2", base), ConfigError);
  EXPECT_THROW(parse_pixab_variant("x: terms=all", base), ConfigError);
  EXPECT_THROW(parse_pixab_variant("x: colour=red", base), ConfigError);
  EXPECT_THROW(parse_pixab_variant("a@b: strict=true", base), ConfigError);
  EXPECT_THROW(parse_box_size("0x2"), ConfigError);
  EXPECT_EQ(parse_box_size("3x1"), (std::pair<int, int>{3, 1}));
}

TEST(PassBatchSizes, FromTheMemoryBudget) {
  // Demo model: K*h*w = 64*8*8 = 4096 floats (64 KiB per head row at factor 4): 1024 MiB allows 16384 rows,
  // clamped to 4096; an input of 3*64*64 floats is 1.5 MiB per image at factor 32: 682 images, clamped to
  // 256.
  const auto demo = pass_batch_sizes_for_memory(1024, 64 * 8 * 8, 3 * 64 * 64);
  EXPECT_EQ(demo.head, 4096);
  EXPECT_EQ(demo.full, 256);
  // Inception V3: 2048*8*8 floats = 2 MiB per head row -> 512 rows; 3*299*299 floats = 32.7 MiB per image
  // -> 31.
  const auto inception = pass_batch_sizes_for_memory(1024, 2048 * 8 * 8, 3 * 299 * 299);
  EXPECT_EQ(inception.head, 512);
  EXPECT_EQ(inception.full, 1024 * 1024 * 1024LL / (3 * 299 * 299 * 4 * 32));
  // A tiny budget still allows one row.
  EXPECT_EQ(pass_batch_sizes_for_memory(1, 2048 * 8 * 8, 3 * 299 * 299).full, 1);
}

TEST(CamRegistryVariants, UnknownVariantIsAConfigError) {
  CamSettings settings;
  settings.variants.push_back({"known", PixabSettings{}});
  EXPECT_EQ(make_cam_method("pixab_cam@known", settings)->id(), "pixab_cam@known");
  EXPECT_THROW(make_cam_method("pixab_cam@other", settings), ConfigError);
}

}  // namespace
}  // namespace pixab
