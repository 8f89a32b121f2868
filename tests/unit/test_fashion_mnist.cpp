// The Fashion-MNIST reader on Debian's installed files, and its errors on missing and damaged files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

fs::path scratch_dir(const std::string& name) {
  const char* root = std::getenv("PIXAB_TEST_TMP");
  const fs::path dir =
      fs::path(root && *root ? root : fs::temp_directory_path().string()) / ("fashion_mnist_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The message must name the offending file, since that is all a user sees.
void expect_io_error_naming(const std::string& dir, const std::string& split, const std::string& file) {
  try {
    read_fashion_mnist(dir, split);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
  }
}

void write_gz(const fs::path& path, const std::vector<unsigned char>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

std::vector<unsigned char> idx_header(std::uint32_t magic, const std::vector<std::uint32_t>& dims) {
  std::vector<unsigned char> bytes;
  const auto push = [&bytes](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<unsigned char>(v >> shift));
  };
  push(magic);
  for (std::uint32_t d : dims) push(d);
  return bytes;
}

TEST(FashionMnist, ReadsTrainingSet) {
  const FashionMnistSplit train = read_fashion_mnist(kFashionMnistDir, "train");
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(train.rows, 28);
  EXPECT_EQ(train.cols, 28);
  EXPECT_EQ(train.pixels.size(), 60000u * 28 * 28);
  ASSERT_EQ(train.labels.size(), 60000u);
  for (std::uint8_t label : train.labels) ASSERT_LT(label, 10);
}

TEST(FashionMnist, TestSetHasAThousandItemsPerClass) {
  const FashionMnistSplit test = read_fashion_mnist(kFashionMnistDir, "test");
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(test.rows, 28);
  EXPECT_EQ(test.cols, 28);
  EXPECT_EQ(test.pixels.size(), 10000u * 28 * 28);
  std::array<int, 10> histogram{};
  for (std::uint8_t label : test.labels) ++histogram.at(label);
  for (int count : histogram) EXPECT_EQ(count, 1000);
}

TEST(FashionMnist, HasTenLabels) {
  ASSERT_EQ(fashion_mnist_labels().size(), 10u);
  EXPECT_EQ(fashion_mnist_labels().front(), "T-shirt/top");
  EXPECT_EQ(fashion_mnist_labels().back(), "Ankle boot");
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  expect_io_error_naming("/nonexistent/fashion-mnist", "test",
                         "/nonexistent/fashion-mnist/t10k-images-idx3-ubyte.gz");
}

TEST(FashionMnist, UnknownSplitIsAnError) {
  EXPECT_THROW(read_fashion_mnist(kFashionMnistDir, "valid"), IoError);
}

TEST(FashionMnist, TruncatedFileIsAnError) {
  const fs::path dir = scratch_dir("truncated");
  // A complete, valid file whose gzip stream is then cut in half.
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  for (int i = 0; i < 2 * 28 * 28; ++i) images.push_back(static_cast<unsigned char>(i * 37 % 251));
  const fs::path whole = dir / "whole.gz";
  write_gz(whole, images);
  std::ifstream in(whole, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "t10k-images-idx3-ubyte.gz", std::ios::binary)
      .write(compressed.data(), static_cast<std::streamsize>(compressed.size() / 2));
  expect_io_error_naming(dir.string(), "test", "t10k-images-idx3-ubyte.gz");
  fs::remove_all(dir);
}

TEST(FashionMnist, ShortPixelDataIsAnError) {
  const fs::path dir = scratch_dir("short");
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  images.resize(images.size() + 28 * 28 + 5, 7);  // one and a bit images of the two announced
  write_gz(dir / "t10k-images-idx3-ubyte.gz", images);
  expect_io_error_naming(dir.string(), "test", "t10k-images-idx3-ubyte.gz");
  fs::remove_all(dir);
}

TEST(FashionMnist, WrongMagicIsAnError) {
  const fs::path dir = scratch_dir("magic");
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_header(2049, {2, 28, 28}));
  expect_io_error_naming(dir.string(), "test", "t10k-images-idx3-ubyte.gz");
  fs::remove_all(dir);
}

TEST(FashionMnist, LabelCountMustMatchImageCount) {
  const fs::path dir = scratch_dir("counts");
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  images.resize(images.size() + 2 * 28 * 28, 0);
  write_gz(dir / "t10k-images-idx3-ubyte.gz", images);
  std::vector<unsigned char> labels = idx_header(2049, {3});
  labels.insert(labels.end(), {1, 2, 3});
  write_gz(dir / "t10k-labels-idx1-ubyte.gz", labels);
  expect_io_error_naming(dir.string(), "test", "t10k-labels-idx1-ubyte.gz");
  fs::remove_all(dir);
}

TEST(FashionMnist, ReadsASmallWellFormedPair) {
  const fs::path dir = scratch_dir("small");
  std::vector<unsigned char> images = idx_header(2051, {2, 3, 4});
  for (int i = 0; i < 24; ++i) images.push_back(static_cast<unsigned char>(i));
  write_gz(dir / "train-images-idx3-ubyte.gz", images);
  std::vector<unsigned char> labels = idx_header(2049, {2});
  labels.insert(labels.end(), {9, 0});
  write_gz(dir / "train-labels-idx1-ubyte.gz", labels);
  const FashionMnistSplit split = read_fashion_mnist(dir.string(), "train");
  EXPECT_EQ(split.count, 2);
  EXPECT_EQ(split.rows, 3);
  EXPECT_EQ(split.cols, 4);
  EXPECT_EQ(split.pixels.at(23), 23);
  EXPECT_EQ(split.labels, (std::vector<std::uint8_t>{9, 0}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pixab
