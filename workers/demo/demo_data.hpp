// The demo dataset, the analogue of the paper's MOD set: canvases holding 2 to 4 Fashion-MNIST test items of
// different classes with similar textures, written as lossless PNG with VOC annotations in VOC's folder
// layout.
#pragma once

#include <cstdint>
#include <string>

namespace pixab {

struct DemoDataOptions {
  std::string fashion_mnist_dir;  // defaults to kFashionMnistDir
  int images = 200;
  int canvas_size = 0;  // 0: the demo model's input size
  std::uint64_t seed = 20221002;
};

// Writes out_dir/{JPEGImages,Annotations,ImageSets/Main/test.txt}. Returns the number of objects written.
int write_demo_data(const std::string& out_dir, const DemoDataOptions& options);

}  // namespace pixab
