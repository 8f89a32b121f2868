// The demo model builder on a tiny budget: the saved file keeps the model contract, and training repeats.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "io/error.hpp"
#include "io/model_meta.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/demo/demo_model.hpp"
#include "workers/metrics/sanity.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

// A few seconds of training: enough to exercise every step, not to learn much.
DemoModelOptions tiny_budget() {
  DemoModelOptions options;
  options.epochs = 1;
  options.train_items = 512;
  options.test_items = 200;
  options.threads = 2;  // fixed, since bitwise repeatability holds for a given thread count
  return options;
}

torch::jit::Module load_with_meta(const fs::path& path, std::string& json_text) {
  torch::jit::ExtraFilesMap extra_files{{"pixab.json", ""}};
  torch::jit::Module module = torch::jit::load(path.string(), torch::kCPU, extra_files);
  module.eval();
  json_text = extra_files.at("pixab.json");
  return module;
}

TEST(DemoModel, SavedFileFollowsTheModelContract) {
  const test::TempDir dir("demo_model");
  const fs::path path = dir.file("demo.pt");
  const DemoModelOptions options = tiny_budget();
  const DemoModelReport report = build_demo_model(path.string(), options);
  EXPECT_EQ(report.epochs, 1);
  EXPECT_EQ(report.train_items, 512);
  EXPECT_GE(report.test_accuracy, 0.0);
  EXPECT_LE(report.test_accuracy, 1.0);
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

  std::string json_text;
  torch::jit::Module module = load_with_meta(path, json_text);

  // Metadata: valid under the contract, and carrying the demo's own provenance keys.
  const ModelMeta meta = parse_model_meta(json_text, path.string());
  EXPECT_EQ(meta.input_height, kDemoInputSize);
  EXPECT_EQ(meta.input_width, kDemoInputSize);
  EXPECT_EQ(meta.channels, 3);
  EXPECT_EQ(meta.num_classes, 10);
  EXPECT_EQ(meta.labels.size(), 10u);
  EXPECT_EQ(meta.resize_mode, ResizeMode::kStretch);
  ASSERT_EQ(meta.mean.size(), 3u);
  EXPECT_EQ(meta.mean[0], meta.mean[2]);
  EXPECT_GT(meta.std[0], 0);
  const nlohmann::json json = nlohmann::json::parse(json_text);
  for (const char* key : {"name", "input_size", "channels", "mean", "std", "resize", "num_classes", "labels",
                          "target_layer", "test_accuracy", "train"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_DOUBLE_EQ(json.at("test_accuracy").get<double>(), report.test_accuracy);
  EXPECT_EQ(json.at("train").at("epochs").get<int>(), 1);
  EXPECT_EQ(json.at("train").at("items").get<int>(), 512);
  EXPECT_EQ(json.at("train").at("seed").get<std::uint64_t>(), options.seed);
  EXPECT_TRUE(json.at("train").contains("seconds"));

  // The three methods, the 8x8 target grid, and forward = head(features).
  for (const char* method : {"features", "head", "forward"}) {
    ASSERT_TRUE(module.find_method(method)) << method;
  }
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({2, 3, kDemoInputSize, kDemoInputSize});
  const torch::Tensor features = module.get_method("features")({x}).toTensor();
  ASSERT_EQ(features.dim(), 4);
  EXPECT_EQ(features.size(0), 2);
  EXPECT_EQ(features.size(2), 8);
  EXPECT_EQ(features.size(3), 8);
  const torch::Tensor from_head = module.get_method("head")({features}).toTensor();
  const torch::Tensor logits = module.forward({x}).toTensor();
  EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{2, 10}));
  EXPECT_TRUE(torch::allclose(logits, from_head));

  // BatchNorm is folded away: one parameter-only submodule per layer (the sanity check's parameter groups,
  // output end first), no running statistics, no batch_norm call in any method.
  std::vector<std::string> groups;
  for (const auto& group : cascade_groups(module)) groups.push_back(group.name);
  EXPECT_EQ(groups, (std::vector<std::string>{"classifier", "head_conv", "block4", "block3", "block2", "block1"}));
  EXPECT_EQ(module.named_buffers().size(), 0u);
  for (const char* method : {"features", "head", "forward"}) {
    EXPECT_EQ(module.get_method(method).graph()->toString().find("batch_norm"), std::string::npos) << method;
  }
}

TEST(DemoModel, SameSeedGivesIdenticalParameters) {
  const test::TempDir dir("demo_model");
  const DemoModelReport first = build_demo_model(dir.file("first.pt"), tiny_budget());
  const DemoModelReport second = build_demo_model(dir.file("second.pt"), tiny_budget());
  EXPECT_EQ(first.test_accuracy, second.test_accuracy);

  const torch::jit::Module a = torch::jit::load(dir.file("first.pt"));
  const torch::jit::Module b = torch::jit::load(dir.file("second.pt"));
  const auto a_params = a.named_parameters();
  const auto b_params = b.named_parameters();
  ASSERT_EQ(a_params.size(), b_params.size());
  auto b_it = b_params.begin();
  for (const auto& a_param : a_params) {
    const auto b_param = *b_it++;
    EXPECT_EQ(a_param.name, b_param.name);
    EXPECT_TRUE(torch::equal(a_param.value, b_param.value)) << a_param.name;
  }
}

TEST(DemoModel, MissingDatasetIsAnIoErrorAndWritesNothing) {
  const test::TempDir dir("demo_model");
  DemoModelOptions options = tiny_budget();
  options.fashion_mnist_dir = dir.file("no-such-dir");
  EXPECT_THROW(build_demo_model(dir.file("demo.pt"), options), IoError);
  EXPECT_FALSE(fs::exists(dir.file("demo.pt")));
}

}  // namespace
}  // namespace pixab
