// The embedded demo model: a small CNN defined as TorchScript, trained on Fashion-MNIST items placed at
// random positions on a larger black canvas, saved under the model contract (docs/model-contract.md).
#pragma once

#include <cstdint>
#include <string>

namespace pixab {

inline constexpr int kDemoInputSize = 64;  // the demo model's square input; the target layer's grid is 8x8

struct DemoModelOptions {
  std::string fashion_mnist_dir;  // defaults to kFashionMnistDir
  int epochs = 0;                 // 0: the default schedule
  int train_items = 0;            // 0: the whole training set; fewer for quick tests
  int test_items = 0;             // 0: the whole test set
  int threads = 0;                // 0: every CPU this process may use
  std::uint64_t seed = 20221001;
};

struct DemoModelReport {
  double test_accuracy = 0;  // on the Fashion-MNIST test set, one item per canvas at a random position
  int epochs = 0;
  int train_items = 0;
  double seconds = 0;
};

// Trains and saves the model to out_path (atomically). Logs progress through spdlog.
DemoModelReport build_demo_model(const std::string& out_path, const DemoModelOptions& options);

}  // namespace pixab
