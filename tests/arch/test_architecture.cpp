// Arch.*: one real architecture exported by tools/export_model.py, loaded under the model contract and
// explained by grad_cam, ablation_cam and pixab_cam on real photographs.
// Usage: pixab_arch_tests [gtest options] --model FILE --grid N IMAGE...
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "io/image_reader.hpp"
#include "io/model.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/preprocess.hpp"

namespace pixab {
namespace {

// What the command line says is under test.
struct ArchitectureUnderTest {
  std::string model_path;
  int grid = 0;  // the target layer's h = w at the model's input size
  std::vector<std::string> images;
};

ArchitectureUnderTest& under_test() {
  static ArchitectureUnderTest value;
  return value;
}

// Loading runs the contract checks and is slow for the large models: once for all tests.
class Architecture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = std::make_unique<Model>(Model::load(under_test().model_path, torch::Device(torch::kCPU)));
    std::vector<torch::Tensor> inputs;
    for (const std::string& path : under_test().images)
      inputs.push_back(to_model_input(read_image_rgb8(path).rgb, model_->meta()));
    inputs_ = torch::stack(inputs);
  }
  static void TearDownTestSuite() { model_.reset(); }

  static std::unique_ptr<Model> model_;
  static torch::Tensor inputs_;  // the photographs in model-input space, [B,3,H,W]
};
std::unique_ptr<Model> Architecture::model_;
torch::Tensor Architecture::inputs_;

TEST_F(Architecture, TargetLayerHasThePapersGrid) {
  EXPECT_EQ(model_->grid_height(), under_test().grid);
  EXPECT_EQ(model_->grid_width(), under_test().grid);
  EXPECT_EQ(model_->meta().num_classes, 1000);
  EXPECT_EQ(model_->meta().labels.size(), 1000u);
  EXPECT_EQ(model_->meta().resize_mode, ResizeMode::kResizeThenCenterCrop);
}

// The load-time check uses random noise; real photographs drive the network into other ranges.
TEST_F(Architecture, ForwardEqualsHeadOfFeaturesOnPhotographs) {
  torch::NoGradGuard no_grad;
  const torch::Tensor direct = model_->forward(inputs_);
  const torch::Tensor split = model_->head(model_->features(inputs_));
  const double scale = std::max(1.0, direct.abs().max().item<double>());
  EXPECT_LE((direct - split).abs().max().item<double>(), 1e-4 * scale);
}

TEST_F(Architecture, MethodsGiveMapsOfTheTargetLayersGrid) {
  CamSettings settings;
  // VGG16's head rows are 512 x 14 x 14 floats and its head starts with 100-million-weight layers: small head
  // passes keep memory low on a CI machine; results do not depend on batch sizes.
  settings.head_batch_size = 64;
  const auto methods = make_cam_methods({"grad_cam", "ablation_cam", "pixab_cam"}, settings);
  CamBatch batch(*model_, inputs_, merged_needs(methods));
  batch.set_targets(batch.logits().argmax(1));
  const int64_t images = inputs_.size(0), grid = under_test().grid;
  for (const auto& method : methods) {
    const torch::Tensor maps = method->compute(batch).maps;
    ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{images, grid, grid})) << method->id();
    EXPECT_TRUE(torch::isfinite(maps).all().item<bool>()) << method->id();
    EXPECT_GE(maps.min().item<float>(), 0.f) << method->id();
    EXPECT_LE(maps.max().item<float>(), 1.f) << method->id();
  }
}

// Reads `--model FILE --grid N IMAGE...` (what InitGoogleTest leaves); false with a message when malformed.
bool parse_arguments(int argc, char** argv) {
  ArchitectureUnderTest& args = under_test();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) {
      args.model_path = argv[++i];
    } else if (arg == "--grid" && i + 1 < argc) {
      args.grid = std::atoi(argv[++i]);
    } else {
      args.images.push_back(arg);
    }
  }
  if (args.model_path.empty() || args.grid <= 0 || args.images.empty()) {
    std::cerr << "usage: " << argv[0] << " [gtest options] --model FILE --grid N IMAGE...\n";
    return false;
  }
  return true;
}

}  // namespace
}  // namespace pixab

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!pixab::parse_arguments(argc, argv)) return 2;
  return RUN_ALL_TESTS();
}
