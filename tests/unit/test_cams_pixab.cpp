// Pixab-CAM: placement counts and coverage, D and R on a hand-made head, each terms mode, strict, and the
// invariant that 1x1 deletion boxes on a GAP + linear head give s(ReLU(CAM)).
#include <gtest/gtest.h>

#include "tests/unit/test_support.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/cams/pixab_cam.hpp"

namespace pixab {
namespace {

PixabSettings settings(std::vector<std::pair<int, int>> boxes, PixabSettings::Padding padding,
                       PixabSettings::Terms terms = PixabSettings::Terms::kBoth,
                       ScoreKind score = ScoreKind::kProbability, bool strict = false) {
  PixabSettings s;
  s.boxes = std::move(boxes);
  s.padding = padding;
  s.terms = terms;
  s.score = score;
  s.strict = strict;
  return s;
}

const std::vector<std::pair<int, int>> kDefaultBoxes{{1, 1}, {1, 2}, {2, 1}, {2, 2}};

TEST(PixabPlacements, FullPaddingOnAnEightByEightGrid) {
  // (8 + bh - 1)(8 + bw - 1): 64 + 72 + 72 + 81 = 289 per perspective, 578 head passes with both terms.
  const auto s = settings(kDefaultBoxes, PixabSettings::Padding::kFull);
  const auto p = PixabCam::placements(s, 8, 8);
  EXPECT_EQ(p.masks.size(0), 289);
  EXPECT_EQ(PixabCam::head_passes(s, 8, 8), 578);
  // Each cell is covered by exactly bh * bw placements of each box size.
  for (std::size_t b = 0; b < kDefaultBoxes.size(); ++b) {
    const auto [first, count] = p.ranges[b];
    const auto coverage = p.masks.narrow(0, first, count).sum(0);
    const float expected = static_cast<float>(kDefaultBoxes[b].first * kDefaultBoxes[b].second);
    EXPECT_TRUE(torch::equal(coverage, torch::full({8, 8}, expected))) << "box " << b << "\n" << coverage;
  }
}

TEST(PixabPlacements, SamePaddingAndOtherCounts) {
  // same: h*w anchors per box size: 4 * 64 = 256 per perspective, 512 with both, a quarter of Ablation-CAM's
  // 2048.
  const auto same = settings(kDefaultBoxes, PixabSettings::Padding::kSame);
  EXPECT_EQ(PixabCam::placements(same, 8, 8).masks.size(0), 256);
  EXPECT_EQ(PixabCam::head_passes(same, 8, 8), 512);
  EXPECT_EQ(PixabCam::head_passes(
                settings({{3, 3}}, PixabSettings::Padding::kFull, PixabSettings::Terms::kDeletion), 8, 8),
            100);
  // A clipped 'same' box at the bottom-right corner covers the corner cell only.
  const auto p = PixabCam::placements(settings({{2, 2}}, PixabSettings::Padding::kSame), 3, 3);
  EXPECT_EQ(p.masks[8].sum().item<float>(), 1.f);
  EXPECT_EQ(p.masks[8][2][2].item<float>(), 1.f);
}

// One channel on a 2x2 grid; class 0's logit is sum_ij V_ij A_ij + 1 with V = [[1,-1],[0,1]], class 1's is 0.
constexpr const char* kCellLinearSource = R"(
def features(self, x):
    return x

def head(self, a):
    z0 = torch.sum(a[:, 0] * self.v, [1, 2]) + 1.0
    return torch.stack([z0, torch.zeros_like(z0)], 1)

def forward(self, x):
    return self.head(self.features(x))
)";

class HandHead : public ::testing::Test {
 protected:
  // A = [[1,2],[3,4]]: V * A = [[1,-2],[0,4]], Y = z0 = 4, Y~ = head(0)_0 = 1. With the logit score and 1x1
  // boxes:
  //   d = (Y - (Y - VA_ij)) / Y = VA / 4 = [[0.25,-0.5],[0,1]],  r = ((VA_ij + 1) - 1) / 1 = VA =
  //   [[1,-2],[0,4]].
  void SetUp() override {
    model_ = std::make_unique<Model>(test::load_scripted_model(
        "pixab-hand", kCellLinearSource, {{"v", torch::tensor({{1.f, -1.f}, {0.f, 1.f}})}},
        test::simple_meta_json(2, 2, 1, 2)));
  }
  CamResult run(PixabSettings::Terms terms, bool strict = false) {
    CamBatch b(*model_, torch::tensor({1.f, 2.f, 3.f, 4.f}).view({1, 1, 2, 2}), BatchNeeds{});
    b.set_targets(torch::tensor({0}));
    return PixabCam("pixab_cam",
                    settings({{1, 1}}, PixabSettings::Padding::kFull, terms, ScoreKind::kLogit, strict),
                    /*head_batch_size=*/3)
        .compute(b);
  }
  std::unique_ptr<Model> model_;
};

TEST_F(HandHead, DeletionAndPreservationMaps) {
  const CamResult r = run(PixabSettings::Terms::kBoth);
  test::expect_tensor_near(r.extra_maps.at("D"), torch::tensor({{{0.25f, -0.5f}, {0.f, 1.f}}}), 1e-5);
  test::expect_tensor_near(r.extra_maps.at("R"), torch::tensor({{{1.f, -2.f}, {0.f, 4.f}}}), 1e-5);
  // p = D * R = [[0.25, 1], [0, 4]] (the (0,1) cell: two negatives make a positive) -> s(ReLU(p)) = p / 4.
  test::expect_tensor_near(r.maps, torch::tensor({{{0.0625f, 0.25f}, {0.f, 1.f}}}), 1e-5);
  EXPECT_EQ(r.flags[0].item<int>(), 0);
}

TEST_F(HandHead, StrictClampsBeforeTheProduct) {
  // D+ * R+ = [[0.25, 0], [0, 4]] -> / 4.
  test::expect_tensor_near(run(PixabSettings::Terms::kBoth, true).maps,
                           torch::tensor({{{0.0625f, 0.f}, {0.f, 1.f}}}), 1e-5);
}

TEST_F(HandHead, EachTermAlone) {
  // ReLU(D) = [[0.25, 0], [0, 1]]; ReLU(R) = [[1, 0], [0, 4]] -> both normalise to [[0.25, 0], [0, 1]].
  const CamResult deletion = run(PixabSettings::Terms::kDeletion);
  test::expect_tensor_near(deletion.maps, torch::tensor({{{0.25f, 0.f}, {0.f, 1.f}}}), 1e-5);
  EXPECT_EQ(deletion.extra_maps.count("R"), 0u);
  const CamResult preservation = run(PixabSettings::Terms::kPreservation);
  test::expect_tensor_near(preservation.maps, torch::tensor({{{0.25f, 0.f}, {0.f, 1.f}}}), 1e-5);
  EXPECT_EQ(preservation.extra_maps.count("D"), 0u);
}

TEST(PixabInvariant, OneByOneDeletionOnGapHeadIsNormalisedCam) {
  // With z = W mean_ij A + b, score = logit, box 1x1, terms = deletion and z_c > 0: d_P = CAM_ij / (h w z_c),
  // so pixab_cam = s(ReLU(CAM)) = grad_cam's map.
  torch::manual_seed(11);
  const Model model =
      test::load_scripted_model("pixab-gap", test::kGapLinearSource,
                                {{"weight", torch::randn({3, 4})}, {"bias", torch::full({3}, 5.f)}},
                                test::simple_meta_json(6, 5, 4, 3));
  CamBatch b(model, torch::rand({3, 4, 6, 5}), BatchNeeds::logit_gradients());
  b.set_targets(std::get<1>(b.logits().max(1)));
  ASSERT_TRUE((b.logits().gather(1, b.targets().unsqueeze(1)) > 0).all().item<bool>());
  const CamResult pixab = PixabCam("pixab_cam",
                                   settings({{1, 1}}, PixabSettings::Padding::kFull,
                                            PixabSettings::Terms::kDeletion, ScoreKind::kLogit),
                                   7)
                              .compute(b);
  test::expect_tensor_near(pixab.maps, make_cam_method("grad_cam")->compute(b).maps, 1e-5);
}

}  // namespace
}  // namespace pixab
