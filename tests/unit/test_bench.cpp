// `pixab bench` on a tiny model: every method is reported, the pass counts are the ones counted by hand, the
// JSON has the keys scripts read. No timing assertions: speed targets live in the benchmark
// (docs/performance.md).
#include <gtest/gtest.h>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/bench/bench.hpp"
#include "workers/bench/pass_replay.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

// features = identity on a 3-channel 4x4 input, so A has K = 3 channels on a 4x4 grid; head = GAP + linear.
constexpr int kChannels = 3, kGrid = 4;
// Default Pixab boxes 1x1, 1x2, 2x1, 2x2 with full padding on 4x4: 16 + 4*5 + 5*4 + 5*5 placements.
constexpr double kPixabPlacements = 81;

class Bench : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = std::make_unique<Model>(test::load_scripted_model(
        "bench", test::kGapLinearSource,
        {{"weight", torch::tensor({{1.0f, -1.0f, 0.5f}, {0.5f, 2.0f, -1.0f}})}, {"bias", torch::zeros({2})}},
        test::simple_meta_json(kGrid, kGrid, kChannels, 2)));
    options_.images = 2;
  }

  const BenchRow& row(const BenchReport& report, const std::string& id) {
    for (const BenchRow& r : report.methods) {
      if (r.id == id) return r;
    }
    ADD_FAILURE() << "no row for " << id;
    return report.whole_image;
  }

  static void expect_passes(const BenchRow& row, double features, double head, double forward,
                            double backward) {
    EXPECT_DOUBLE_EQ(row.passes.features, features) << row.id;
    EXPECT_DOUBLE_EQ(row.passes.head, head) << row.id;
    EXPECT_DOUBLE_EQ(row.passes.forward, forward) << row.id;
    EXPECT_DOUBLE_EQ(row.passes.backward, backward) << row.id;
  }

  std::unique_ptr<Model> model_;
  BenchOptions options_;
};

TEST_F(Bench, ReportsEveryMethodWithPositiveTimesAndMemory) {
  options_.methods = {"every"};
  const BenchReport report = run_bench(*model_, options_);
  ASSERT_EQ(report.methods.size(), implemented_cam_methods().size());
  for (std::size_t i = 0; i < report.methods.size(); ++i) {
    EXPECT_EQ(report.methods[i].id, implemented_cam_methods()[i]);
  }
  EXPECT_EQ(report.whole_image.id, "whole_image");
  for (const BenchRow* r : {&report.methods.front(), &report.methods.back(), &report.whole_image}) {
    EXPECT_GT(r->ms_per_image, 0) << r->id;
    EXPECT_GT(r->limit_ms, 0) << r->id;
    EXPECT_GT(r->peak_rss_mb, 0) << r->id;
  }
}

TEST_F(Bench, PassCountsAreTheMethodsOwnPlusTheSharedOnes) {
  // Every image: one features pass and the prediction's head pass (with a backward for gradient methods).
  const BenchReport report = run_bench(*model_, options_);
  expect_passes(row(report, "activation_cam"), 1, 1, 0, 0);
  for (const char* id : {"grad_cam", "grad_cam_pp", "xgrad_cam"}) expect_passes(row(report, id), 1, 1, 0, 1);
  // Score-CAM: K masked inputs and x_b; Ablation-CAM: K ablated A; Pixab-CAM: both perspectives and 0_A.
  expect_passes(row(report, "score_cam"), 1, 1, kChannels + 1, 0);
  expect_passes(row(report, "ablation_cam"), 1, 1 + kChannels, 0, 0);
  expect_passes(row(report, "pixab_cam"), 1, 1 + 2 * kPixabPlacements + 1, 0, 0);
  // The whole image needs each distinct pass once: the features and the backward are shared.
  expect_passes(report.whole_image, 1, 1 + kChannels + 2 * kPixabPlacements + 1, kChannels + 1, 1);
  EXPECT_DOUBLE_EQ(row(report, "pixab_cam").passes.total(), 2 + 2 * kPixabPlacements + 1);
}

TEST_F(Bench, BaselinesArePassesPerBatch) {
  options_.batch_size = 2;
  options_.methods = {"score_cam", "pixab_cam"};
  const BenchReport report = run_bench(*model_, options_);
  expect_passes(row(report, "score_cam"), 1, 1, kChannels + 0.5, 0);
  expect_passes(row(report, "pixab_cam"), 1, 1 + 2 * kPixabPlacements + 0.5, 0, 0);
}

TEST_F(Bench, PixabVariantsShareTheZeroActivationPassInTheWholeImage) {
  PixabSettings single_cells;
  single_cells.boxes = {{1, 1}};
  options_.cams.variants = {{"cells", single_cells}};
  options_.methods = {"pixab_cam", "pixab_cam@cells"};
  const BenchReport report = run_bench(*model_, options_);
  expect_passes(row(report, "pixab_cam@cells"), 1, 1 + 2 * kGrid * kGrid + 1, 0, 0);
  expect_passes(report.whole_image, 1, 1 + 2 * kPixabPlacements + 2 * kGrid * kGrid + 1, 0, 0);
}

TEST_F(Bench, JsonIsKeyedByMethodWithTheRequiredFields) {
  options_.methods = {"grad_cam", "ablation_cam"};
  const nlohmann::json json = bench_json(run_bench(*model_, options_));
  for (const char* id : {"grad_cam", "ablation_cam", "whole_image"}) {
    ASSERT_TRUE(json.contains(id)) << json.dump(2);
    for (const char* key : {"ms_per_image", "limit_ms", "ratio", "passes", "peak_rss_mb"}) {
      EXPECT_TRUE(json[id].contains(key)) << id << " lacks " << key;
    }
  }
  EXPECT_EQ(json.size(), 4u);  // and adversarial_attack
  EXPECT_DOUBLE_EQ(json["ablation_cam"]["passes"].get<double>(), 2 + kChannels);
  EXPECT_DOUBLE_EQ(json["ablation_cam"]["pass_breakdown"]["head"].get<double>(), 1 + kChannels);
}

TEST_F(Bench, MarkdownHasOneRowPerMethodAndTheWholeImage) {
  options_.methods = {"activation_cam", "score_cam"};
  const std::string table = bench_markdown(run_bench(*model_, options_), *model_);
  EXPECT_NE(table.find("| method | ms/image | limit ms | ratio |"), std::string::npos) << table;
  EXPECT_NE(table.find("| activation_cam | "), std::string::npos) << table;
  EXPECT_NE(table.find("| 6 (1 features, 1 head, 4 forward) |"), std::string::npos) << table;
  EXPECT_NE(table.find("| whole_image | "), std::string::npos) << table;
}

TEST_F(Bench, MetricsRowAddsTheMetricForwardPasses) {
  options_.methods = {"grad_cam", "ablation_cam"};
  options_.metrics.metrics = {"average_drop", "deletion_auc", "insertion_auc", "proportion"};
  options_.metrics.steps = 4;
  const BenchReport report = run_bench(*model_, options_);
  EXPECT_EQ(report.whole_image_metrics.id, "whole_image_metrics");
  // Per method: 1 masked image + 3 inner deletion steps + 3 inner insertion steps; per image: 1 blurred
  // input. 2 * 7 + 1 = 15 forward passes on top of the whole image's (1 features, 1 + K head, 1 backward).
  expect_passes(report.whole_image_metrics, 1, 1 + kChannels, 15, 1);
  EXPECT_GT(report.whole_image_metrics.ms_per_image, 0);
  options_.metrics.metrics.clear();
  EXPECT_TRUE(run_bench(*model_, options_).whole_image_metrics.id.empty());
}

TEST_F(Bench, AttackRowIsItsStepsForwardAndBackwardAndTheLastCheck) {
  options_.methods = {"activation_cam"};
  options_.attack_steps = 3;
  const BenchReport report = run_bench(*model_, options_);
  EXPECT_EQ(report.adversarial_attack.id, "adversarial_attack");
  expect_passes(report.adversarial_attack, 0, 0, 3 + 1, 3);
  EXPECT_GT(report.adversarial_attack.ms_per_image, 0);
  EXPECT_GT(report.adversarial_attack.limit_ms, 0);
  EXPECT_NE(bench_markdown(report, *model_).find("| adversarial_attack | "), std::string::npos);
  options_.attack_steps = 0;
  EXPECT_TRUE(run_bench(*model_, options_).adversarial_attack.id.empty());
}

TEST_F(Bench, MethodsBeyondThePaperMakeNoPassOfTheirOwn) {
  // They read the CamBatch only: at most its backward passes.
  options_.methods = {"extra"};
  options_.metrics.metrics.clear();
  const BenchReport report = run_bench(*model_, options_);
  for (const char* id : {"eigen_cam", "fem", "random_cam"}) expect_passes(row(report, id), 1, 1, 0, 0);
  for (const char* id : {"hires_cam", "grad_cam_elementwise", "layer_cam", "eigen_grad_cam", "finer_cam"})
    expect_passes(row(report, id), 1, 1, 0, 1);
  // ShapleyCAM: the plain backward, and a first backward keeping its graph with the second through it.
  expect_passes(row(report, "shapley_cam"), 1, 1, 0, 3);
}

TEST_F(Bench, PassCountsAreThoseOfTheRegistrysPlans) {
  // Each method's row counts the CamBatch's passes for its declared needs and the passes its spec declares.
  options_.methods = {"every"};
  const BenchReport report = run_bench(*model_, options_);
  for (const CamMethodSpec* spec : cam_method_specs()) {
    PassPlan plan = batch_passes(spec->needs, options_.batch_size);
    const PassPlan own = spec->passes(spec->id, options_.cams, *model_, options_.batch_size);
    plan.insert(plan.end(), own.begin(), own.end());
    const PassCounts expected = count_passes(plan, options_.batch_size);
    expect_passes(row(report, spec->id), expected.features, expected.head, expected.forward,
                  expected.backward);
  }
}

TEST(BenchPlans, BatchPassesFollowTheNeeds) {
  auto backward = [](const BatchNeeds& needs) { return count_passes(batch_passes(needs, 2), 2).backward; };
  BatchNeeds needs;
  const PassCounts plain = count_passes(batch_passes(needs, 2), 2);
  EXPECT_DOUBLE_EQ(plain.features, 1);
  EXPECT_DOUBLE_EQ(plain.head, 1);
  EXPECT_DOUBLE_EQ(plain.backward, 0);
  needs.zero_input_logits = needs.zero_activation_logits = true;  // the methods' own steps, not the batch's
  EXPECT_DOUBLE_EQ(count_passes(batch_passes(needs, 2), 2).total(), 2);
  needs.hessian_vector_product = true;  // a first backward keeping its graph, and the second
  EXPECT_DOUBLE_EQ(backward(needs), 2);
  needs.gradients = {ScoreKind::kLogit};  // the plain backward besides those two
  EXPECT_DOUBLE_EQ(backward(needs), 3);
  needs.gradients.insert(ScoreKind::kProbability);
  EXPECT_DOUBLE_EQ(backward(needs), 4);
  EXPECT_DOUBLE_EQ(count_passes(batch_passes(needs, 2), 2).head, 1);
  BatchNeeds combined;  // Finer-CAM's own backward: the first one when alone, one more beside others
  combined.combined_logit_gradients = true;
  EXPECT_DOUBLE_EQ(backward(combined), 1);
  combined.gradients = {ScoreKind::kLogit};
  EXPECT_DOUBLE_EQ(backward(combined), 2);
}

TEST_F(Bench, RejectsImagesThatDoNotFillTheBatches) {
  options_.images = 3;
  options_.batch_size = 2;
  EXPECT_THROW(run_bench(*model_, options_), ConfigError);
  options_.images = 2;
  options_.methods = {"grad_cam", "grad_cam"};
  EXPECT_THROW(run_bench(*model_, options_), ConfigError);
}

}  // namespace
}  // namespace pixab
