// The adversarial-patch benchmark (metrics.md "Adversarial examples", "Adversarial figures"): patch geometry,
// the attack and AE1's stages on a linear model whose steps can be counted by hand, DOA and COP on synthetic
// maps, and the dap2 task end to end on that model.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "io/canvas_dataset.hpp"
#include "io/error.hpp"
#include "test_support.hpp"
#include "workers/adversarial/adversarial_settings.hpp"
#include "workers/adversarial/attack.hpp"
#include "workers/adversarial/examples.hpp"
#include "workers/adversarial/patches.hpp"
#include "workers/cams/cam_batch.hpp"
#include "workers/item_processor.hpp"
#include "workers/metrics/adversarial_metrics.hpp"
#include "workers/preprocess.hpp"
#include "workers/tasks/adversarial_task.hpp"

namespace pixab {
namespace {

constexpr int kSide = 32;  // the linear model's input: 32 x 32, 3 classes

// features = identity, head = mean over the image, then z = scale * I: z_c = scale * mean(x_c). With mean 0
// and std 1 the model input is levels / 255, so an 8 x 8 patch (1/16 of the image) at level l in channel c
// gives z_c = scale * l / (16 * 255) and leaves the other logits alone.
Model linear_model(const std::string& name, double scale) {
  return test::load_scripted_model(name, test::kGapLinearSource,
                                   {{"weight", scale * torch::eye(3)}, {"bias", torch::zeros({3})}},
                                   test::simple_meta_json(kSide, kSide, 3, 3));
}

torch::Tensor centre_patch_mask() {  // rows and columns 12..19: 64 of the 1024 pixels
  return patch_masks({PatchRect{12, 12, 20, 20}}, kSide, kSide);
}

TEST(PatchGeometry, SidesAreTheWholePixelsBetweenTheBounds) {
  EXPECT_EQ(patch_side_range(224, 0.15, 0.20), std::make_pair(34, 44));  // 33.6 -> 34, 44.8 -> 44
  EXPECT_EQ(patch_side_range(299, 0.15, 0.20), std::make_pair(45, 59));  // 44.85 -> 45, 59.8 -> 59
  EXPECT_EQ(patch_side_range(64, 0.15, 0.20), std::make_pair(10, 12));   // 9.6 -> 10, 12.8 -> 12
  EXPECT_EQ(patch_side_range(200, 0.15, 0.20), std::make_pair(30, 40));  // exact products stay exact
  EXPECT_EQ(patch_side_range(5, 0.15, 0.20), std::make_pair(1, 1));      // never below one pixel
}

TEST(PatchGeometry, ManySeedsGiveInBoundsNonOverlappingPatches) {
  for (const int side : {64, 224}) {
    const auto [lo, hi] = patch_side_range(side, 0.15, 0.20);
    std::set<int> sides_seen;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
      PortableRng rng(seed);
      const int count = 1 + static_cast<int>(seed % 9);
      const std::vector<PatchRect> patches = draw_patches(rng, count, side, side, 0.15, 0.20);
      ASSERT_EQ(static_cast<int>(patches.size()), count);
      for (std::size_t i = 0; i < patches.size(); ++i) {
        const PatchRect& p = patches[i];
        EXPECT_GE(p.height(), lo);
        EXPECT_LE(p.height(), hi);
        EXPECT_GE(p.width(), lo);
        EXPECT_LE(p.width(), hi);
        EXPECT_GE(p.x1, 0);
        EXPECT_GE(p.y1, 0);
        EXPECT_LE(p.x2, side);
        EXPECT_LE(p.y2, side);
        sides_seen.insert(p.width());
        for (std::size_t j = 0; j < i; ++j) EXPECT_FALSE(p.overlaps(patches[j])) << "seed " << seed;
      }
    }
    EXPECT_EQ(static_cast<int>(sides_seen.size()), hi - lo + 1) << "every whole side is drawn";
  }
}

TEST(PatchGeometry, PatchesThatCannotFitAreAnAttackFailure) {
  PortableRng rng(1);
  try {
    draw_patches(rng, 30, 20, 20, 0.2, 0.2);  // 30 patches of 4 x 4 cannot fit in 20 x 20 (at most 25)
    FAIL() << "expected an ItemError";
  } catch (const ItemError& e) {
    EXPECT_EQ(e.status(), ItemStatus::kAttackFailed);
    EXPECT_NE(std::string(e.what()).find("cannot place 30 non-overlapping patches"), std::string::npos);
  }
}

TEST(PatchGeometry, TheBoxHoldsExactlyThePatchPixelCentres) {
  const Box box = PatchRect{3, 4, 8, 10}.box();
  EXPECT_EQ(box.x1, 3.0f);
  EXPECT_EQ(box.y1, 4.0f);
  EXPECT_EQ(box.x2, 8.0f);
  EXPECT_EQ(box.y2, 10.0f);
  EXPECT_EQ(patch_masks({PatchRect{3, 4, 8, 10}}, 16, 16).sum().item<float>(), 30.0f);
}

TEST(AdversarialSettings, AlphaMustBeAWholeNumberOfLevels) {
  EXPECT_EQ(alpha_levels(2.0 / 255.0), 2);
  EXPECT_EQ(alpha_levels(1.0 / 255.0), 1);
  EXPECT_THROW(alpha_levels(0.01), ConfigError);
  EXPECT_THROW(alpha_levels(0), ConfigError);
  AdversarialSettings settings;
  EXPECT_NO_THROW(check_adversarial_settings(settings, 2));
  settings.kmin = 5;
  settings.kmax = 4;
  EXPECT_THROW(check_adversarial_settings(settings, 2), ConfigError);
}

// Target class 1 from the zero canvas, scale 100: each step raises channel 1 of the patch by 2 levels (its
// gradient p_1 - 1 < 0) and leaves channels 0 and 2 at 0 (gradients p_0, p_2 > 0, clipped). p_1 >= 0.9 needs
// e^z1 >= 18 (z0 = z2 = 0), z1 = 100 l / (16 * 255) >= ln 18 = 2.8904: l >= 117.93, so l = 118 after 59 steps.
TEST(Attack, LinearModelReachesItsTargetInTheStepsWorkedOutByHand) {
  const Model model = linear_model("attack-linear", 100);
  const AttackSettings settings{2, 0.9, 200};
  const torch::Tensor mask = centre_patch_mask();
  const AttackOutcome out =
      targeted_attack(model, torch::zeros({1, 3, kSide, kSide}), mask, torch::tensor({1}, torch::kLong), settings);
  ASSERT_TRUE(out.reached[0]);
  EXPECT_EQ(out.iterations[0], 59);
  EXPECT_EQ(out.top1[0], 1);
  const double z1 = 100.0 * 118 / (16 * 255);
  EXPECT_NEAR(out.target_prob[0], std::exp(z1) / (std::exp(z1) + 2), 1e-5);
  // Only channel 1 of the patch changed; every pixel is a whole level in [0, 255].
  EXPECT_EQ(out.levels.select(1, 1).sum().item<float>(), 118.0f * 64);
  EXPECT_EQ((out.levels * (1 - mask)).abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(out.levels.select(1, 0).abs().sum().item<float>() + out.levels.select(1, 2).abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(out.levels, out.levels.round()));
}

TEST(Attack, MaxItersStopsTheAttackAndSaysHowFarItGot) {
  const Model model = linear_model("attack-max-iters", 100);
  const AttackOutcome out = targeted_attack(model, torch::zeros({1, 3, kSide, kSide}), centre_patch_mask(),
                                            torch::tensor({1}, torch::kLong), AttackSettings{2, 0.9, 10});
  EXPECT_FALSE(out.reached[0]);
  EXPECT_EQ(out.iterations[0], 10);
  EXPECT_EQ(out.levels.max().item<float>(), 20.0f);
  const double z1 = 100.0 * 20 / (16 * 255);
  EXPECT_NEAR(out.target_prob[0], std::exp(z1) / (std::exp(z1) + 2), 1e-5);
}

TEST(Attack, EachExampleIsAttackedAsIfAlone) {
  const Model model = linear_model("attack-batch", 100);
  const AttackSettings settings{2, 0.9, 200};
  const torch::Tensor masks = torch::cat({centre_patch_mask(), centre_patch_mask()});
  const AttackOutcome both =
      targeted_attack(model, torch::zeros({2, 3, kSide, kSide}), masks, torch::tensor({1, 2}, torch::kLong), settings);
  const AttackOutcome alone = targeted_attack(model, torch::zeros({1, 3, kSide, kSide}), centre_patch_mask(),
                                              torch::tensor({2}, torch::kLong), settings);
  EXPECT_EQ(both.iterations, (std::vector<int>{59, 59}));
  EXPECT_TRUE(torch::equal(both.levels[1], alone.levels[0]));
}

// Three images under the same patch, target 1 (scale 100): black, so the paste keeps the attack (59 steps, no
// stage 2); red at level 10 outside the patch, z0 = 100 * (15/16) * 10/255 = 3.676 > z1 = 2.892, so stage 2
// raises channel 1 until e^z1 >= 9 (e^z0 + 1): z1 >= 5.8986, l >= 240.7, l = 242: 62 more steps; red at 255,
// z0 = 93.75, which no patch level can beat: stage 2 fails after its 200 steps.
TEST(Ae1, TheSecondStageRunsOnlyWhenThePasteBreaksTheAttack) {
  const Model model = linear_model("ae1-stages", 100);
  torch::Tensor images = torch::zeros({3, 3, kSide, kSide});
  images[1][0].fill_(10);
  images[2][0].fill_(255);
  const torch::Tensor masks = torch::cat({centre_patch_mask(), centre_patch_mask(), centre_patch_mask()});
  const Examples ae1 = make_ae1(model, images, masks, torch::tensor({1, 1, 1}, torch::kLong), AttackSettings{2, 0.9, 200});
  EXPECT_EQ(ae1.second_stage, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(ae1.iterations, (std::vector<int>{59, 59 + 62, 59 + 200}));
  EXPECT_EQ(ae1.failure[0], "");
  EXPECT_EQ(ae1.failure[1], "");
  EXPECT_NE(ae1.failure[2].find("the AE1's top-1 is 0, not the target 1"), std::string::npos) << ae1.failure[2];
  // Outside the patch every AE1 is its image; inside, channel 0 comes from the canvas (0).
  const torch::Tensor outside = 1 - masks;
  EXPECT_TRUE(torch::equal(ae1.levels * outside, images * outside));
  EXPECT_EQ((ae1.levels.select(1, 0) * masks.squeeze(1)).sum().item<float>(), 0.0f);
  EXPECT_EQ(ae1.levels[1][1][15][15].item<float>(), 242.0f);
}

// With 10 steps per stage, stage 1 stops at level 20 (z1 = 0.49, p_1 = 0.45 < 0.9). Pasted into the black
// image the top-1 is still 1: the AE1 is made, without stage 2. Pasted into the red image (z0 = 93.75) it is
// not, and 10 more steps do not change that: attack_failed after both stages.
TEST(Ae1, AnExampleIsMadeWhenItsTopOneIsTheTarget) {
  const Model model = linear_model("ae1-top1", 100);
  torch::Tensor images = torch::zeros({2, 3, kSide, kSide});
  images[1][0].fill_(255);
  const Examples ae1 = make_ae1(model, images, torch::cat({centre_patch_mask(), centre_patch_mask()}),
                                torch::tensor({1, 1}, torch::kLong), AttackSettings{2, 0.9, 10});
  EXPECT_EQ(ae1.second_stage, (std::vector<bool>{false, true}));
  EXPECT_EQ(ae1.iterations, (std::vector<int>{10, 20}));
  EXPECT_EQ(ae1.failure[0], "");
  const double z1 = 100.0 * 20 / (16 * 255);
  EXPECT_NEAR(ae1.target_prob[0], std::exp(z1) / (std::exp(z1) + 2), 1e-5);
  EXPECT_NE(ae1.failure[1].find("p_t = 0.4494, not reached"), std::string::npos) << ae1.failure[1];
}

TEST(Doa, IdenticalOrthogonalAndEmptyMaps) {
  const torch::Tensor a = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f}).view({1, 2, 2});
  const torch::Tensor b = torch::tensor({0.0f, 1.0f, 0.0f, 0.0f}).view({1, 2, 2});
  const torch::Tensor ab = torch::tensor({1.0f, 1.0f, 0.0f, 0.0f}).view({1, 2, 2});
  EXPECT_FLOAT_EQ(activation_dependency(a, a)[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(activation_dependency(a, b)[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(activation_dependency(a, ab)[0].item<float>(), static_cast<float>(1 - 1 / std::sqrt(2.0)));
  EXPECT_TRUE(std::isnan(activation_dependency(torch::zeros({1, 2, 2}), a)[0].item<float>()));
  EXPECT_TRUE(std::isnan(activation_dependency(a, torch::zeros({1, 2, 2}))[0].item<float>()));
}

// Three 2 x 2 patches on an 8 x 8 grid at the input size (no upsampling), activations 1 on the cells a
// channel covers and 0 elsewhere (s() keeps them): channel 0 covers patches 0 and 1; channel 1 patch 0 only;
// channel 2 patches 1 and 2; channel 3 three of patch 0's four pixels (75% < 80%) and patch 1.
struct CopCase {
  torch::Tensor activations = torch::zeros({4, 8, 8});
  torch::Tensor patches = torch::zeros({3, 8, 8});
  CopCase() {
    const auto cover = [](torch::Tensor map, int row, int col) { map.narrow(0, row, 2).narrow(1, col, 2).fill_(1); };
    cover(patches[0], 0, 0);
    cover(patches[1], 4, 4);
    cover(patches[2], 6, 0);
    cover(activations[0], 0, 0);
    cover(activations[0], 4, 4);
    cover(activations[1], 0, 0);
    cover(activations[2], 4, 4);
    cover(activations[2], 6, 0);
    cover(activations[3], 0, 0);
    activations[3][1][1] = 0;
    cover(activations[3], 4, 4);
  }
};

TEST(Cop, ChannelsFocusingOnTheTargetAndAnotherPatchWorkedOutByHand) {
  const CopCase c;
  const torch::Tensor weights = torch::tensor({4.0f, 3.0f, 2.0f, 1.0f});  // fewer than 100 channels: all count
  EXPECT_EQ(overestimated_channels(c.activations, weights, c.patches, 0, 0.5), 1);  // channel 0
  EXPECT_EQ(overestimated_channels(c.activations, weights, c.patches, 1, 0.5), 2);  // channels 0 and 2
  EXPECT_EQ(overestimated_channels(c.activations, weights, c.patches, 2, 0.5), 1);  // channel 2
}

TEST(Cop, OnlyTheHundredLargestWeightsCount) {
  const CopCase c;
  // 101 channels: channel 0 of the case and 100 empty ones; channel 0 counts only while among the 100 largest.
  const torch::Tensor activations = torch::cat({c.activations.narrow(0, 0, 1), torch::zeros({100, 8, 8})});
  torch::Tensor weights = torch::ones({101});
  weights[0] = 2;
  EXPECT_EQ(overestimated_channels(activations, weights, c.patches, 0, 0.5), 1);
  weights[0] = 0;
  EXPECT_EQ(overestimated_channels(activations, weights, c.patches, 0, 0.5), 0);
}

// dap2 end to end on the linear model (scale 300, 3 classes): the zero canvas's top-1 is class 0, so each AE2
// has two patches with classes 1 and 2; Grad-CAM's map of class c is channel c, which is non-zero on the patch
// of class c only: a pointing-game hit and a proportion of 100% on every explained row.
class Dap2Task : public ::testing::Test {
 protected:
  Dap2Task() : model_(linear_model("dap2-linear", 300)) {
    DatasetConfig canvases;
    canvases.kind = "canvas";
    canvases.canvas_count = 4;
    canvases.canvas_width = canvases.canvas_height = kSide;
    dataset_ = open_canvas_dataset(canvases);
    options_.methods = {"activation_cam", "grad_cam"};
    options_.task = "dap2";
    options_.batch_size = 3;  // batches cut across AE2s
    options_.task_settings.seed = 7;
    options_.task_settings.adversarial.kmax = 2;
  }
  Model model_;
  std::unique_ptr<Dataset> dataset_;
  ProcessOptions options_;
};

TEST_F(Dap2Task, RowsArePatchesExplainedForTheirOwnClassAndRegion) {
  const ItemProcessor processor(model_, *dataset_, options_);
  const ProcessedItems out = processor.process(dataset_->items());
  ASSERT_EQ(out.records.size(), 8u);
  EXPECT_EQ(out.records[0].id, "ae2_000000#t0");
  EXPECT_EQ(out.records[7].id, "ae2_000003#t1");
  const auto& classes = out.arrays.at("adversarial/patch_classes").as<std::int32_t>();
  const auto& region = out.arrays.at("adversarial/region").as<std::int32_t>();
  const auto& image_index = out.arrays.at("adversarial/image_index").as<std::int32_t>();
  const auto& pg = out.arrays.at("metrics/grad_cam/dap2_pointing_game").floats();
  const auto& share = out.arrays.at("metrics/grad_cam/dap2_proportion").floats();
  int explained = 0;
  for (std::size_t row = 0; row < 8; ++row) {
    const ItemRecord& record = out.records[row];
    EXPECT_EQ(region[row], static_cast<int>(row % 2));
    EXPECT_EQ(image_index[row], static_cast<int>(row / 2));
    EXPECT_EQ(std::set<int>({classes[2 * row], classes[2 * row + 1]}), std::set<int>({1, 2}));
    EXPECT_EQ(record.target, classes[2 * row + row % 2]);
    if (record.status != ItemStatus::kOk) {
      EXPECT_EQ(record.status, ItemStatus::kAttackFailed);
      continue;
    }
    ++explained;
    ASSERT_EQ(record.boxes.size(), 1u);
    EXPECT_EQ(pg[row], 1.0f) << record.id;
    EXPECT_FLOAT_EQ(share[row], 100.0f) << record.id;
  }
  EXPECT_GT(explained, 0);
  // The same seed and ids give the same examples, whatever the batch size.
  ProcessOptions other = options_;
  other.batch_size = 8;
  const ProcessedItems again = ItemProcessor(model_, *dataset_, other).process(dataset_->items());
  EXPECT_EQ(again.arrays.at("adversarial/image").as<std::uint8_t>(), out.arrays.at("adversarial/image").as<std::uint8_t>());
  EXPECT_EQ(again.arrays.at("maps/grad_cam").floats(), out.arrays.at("maps/grad_cam").floats());
}

// The example explained is exactly the stored one: its 8-bit pixels, read as an image is read from disk, give
// the same model input, so the same probabilities and maps.
TEST_F(Dap2Task, AStoredExampleReloadedGivesTheSameLogitsAndMaps) {
  const ProcessedItems out = ItemProcessor(model_, *dataset_, options_).process(dataset_->items());
  const auto& images = out.arrays.at("adversarial/image").as<std::uint8_t>();
  const auto& maps = out.arrays.at("maps/grad_cam").floats();
  const std::size_t pixels = kSide * kSide;
  for (std::size_t row = 0; row < out.records.size(); ++row) {
    const ItemRecord& record = out.records[row];
    if (record.status != ItemStatus::kOk) continue;
    // Rows of one AE2 hold the same image; this is row's own copy, as the chunk files keep it.
    cv::Mat rgb(kSide, kSide, CV_8UC3, const_cast<std::uint8_t*>(images.data() + row * pixels * 3));
    const torch::Tensor input = to_model_input(rgb, model_.meta()).unsqueeze(0);
    EXPECT_TRUE(torch::equal(model_input_to_levels(input, model_.meta()),
                             torch::from_blob(rgb.data, {kSide, kSide, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat).unsqueeze(0)));
    CamBatch batch(model_, input, make_cam_method("grad_cam")->spec().needs);
    batch.set_targets(torch::tensor({static_cast<std::int64_t>(record.target)}, torch::kLong));
    EXPECT_FLOAT_EQ(torch::softmax(batch.logits(), 1)[0][record.target].item<float>(), record.target_prob);
    const torch::Tensor map = make_cam_method("grad_cam")->compute(batch).maps[0].flatten();
    for (std::size_t i = 0; i < pixels; ++i) EXPECT_FLOAT_EQ(map[static_cast<int64_t>(i)].item<float>(), maps[row * pixels + i]);
  }
}

// dap1 on black images (the canvases): every patch of an AE1 is attacked towards the one target class t, so
// Grad-CAM's map (channel t) is non-zero on the patches only: the region is their union, a hit and 100%.
TEST_F(Dap2Task, Dap1RegionIsTheUnionOfThePatches) {
  options_.task = "dap1";
  options_.task_settings.adversarial.kmax = 4;
  const ProcessedItems out = ItemProcessor(model_, *dataset_, options_).process(dataset_->items());
  ASSERT_EQ(out.records.size(), 4u);
  const auto& counts = out.arrays.at("adversarial/patch_count").as<std::int32_t>();
  const auto& region = out.arrays.at("adversarial/region").as<std::int32_t>();
  const auto& pg = out.arrays.at("metrics/grad_cam/dap1_pointing_game").floats();
  const auto& share = out.arrays.at("metrics/grad_cam/dap1_proportion").floats();
  int explained = 0;
  for (std::size_t row = 0; row < 4; ++row) {
    EXPECT_EQ(region[row], -1);
    if (out.records[row].status != ItemStatus::kOk) continue;
    ++explained;
    EXPECT_EQ(static_cast<int>(out.records[row].boxes.size()), counts[row]);
    EXPECT_EQ(pg[row], 1.0f);
    EXPECT_FLOAT_EQ(share[row], 100.0f);
  }
  EXPECT_GT(explained, 0);
}

TEST(AdversarialTask, MorePatchesThanDistinctClassesIsRefused) {
  const Model model = linear_model("dap2-classes", 300);  // 3 classes: at most 2 others than the canvas's top-1
  TaskSettings settings;
  settings.adversarial.kmax = 3;
  try {
    AdversarialTask task(AdversarialKind::kAe2, model, settings);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("adversarial.kmax"), std::string::npos) << e.what();
  }
  settings.adversarial.kmax = 2;
  EXPECT_NO_THROW(AdversarialTask(AdversarialKind::kAe2, model, settings));
  settings.adversarial.kmax = 9;  // dap1 needs one class other than the clean top-1
  EXPECT_NO_THROW(AdversarialTask(AdversarialKind::kAe1, model, settings));
}

}  // namespace
}  // namespace pixab
