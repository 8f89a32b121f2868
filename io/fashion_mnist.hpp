// Reader for Fashion-MNIST's gzipped IDX files, as Debian's dataset-fashion-mnist package installs them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pixab {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The ten class names in label order.
const std::vector<std::string>& fashion_mnist_labels();

struct FashionMnistSplit {
  int count = 0;
  int rows = 28, cols = 28;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, row-major, 0 = black background
  std::vector<std::uint8_t> labels;  // count
};

// split: "train" or "test" (t10k). Throws IoError naming the file on a missing or malformed file.
FashionMnistSplit read_fashion_mnist(const std::string& dir, const std::string& split);

}  // namespace pixab
