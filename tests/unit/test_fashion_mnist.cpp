// The Fashion-MNIST reader on Debian's installed files, and its errors on missing and damaged files.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

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
  const test::TempDir dir("fashion_mnist");
  // A complete, valid file whose gzip stream is then cut in half.
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  for (int i = 0; i < 2 * 28 * 28; ++i) images.push_back(static_cast<unsigned char>(i * 37 % 251));
  const fs::path whole = dir.file("whole.gz");
  write_gz(whole, images);
  std::ifstream in(whole, std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir.file("t10k-images-idx3-ubyte.gz"), std::ios::binary)
      .write(compressed.data(), static_cast<std::streamsize>(compressed.size() / 2));
  expect_io_error_naming(dir.path(), "test", "t10k-images-idx3-ubyte.gz");
}

TEST(FashionMnist, ShortPixelDataIsAnError) {
  const test::TempDir dir("fashion_mnist");
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  images.resize(images.size() + 28 * 28 + 5, 7);  // one and a bit images of the two announced
  write_gz(dir.file("t10k-images-idx3-ubyte.gz"), images);
  expect_io_error_naming(dir.path(), "test", "t10k-images-idx3-ubyte.gz");
}

TEST(FashionMnist, WrongMagicIsAnError) {
  const test::TempDir dir("fashion_mnist");
  write_gz(dir.file("t10k-images-idx3-ubyte.gz"), idx_header(2049, {2, 28, 28}));
  expect_io_error_naming(dir.path(), "test", "t10k-images-idx3-ubyte.gz");
}

TEST(FashionMnist, LabelCountMustMatchImageCount) {
  const test::TempDir dir("fashion_mnist");
  std::vector<unsigned char> images = idx_header(2051, {2, 28, 28});
  images.resize(images.size() + 2 * 28 * 28, 0);
  write_gz(dir.file("t10k-images-idx3-ubyte.gz"), images);
  std::vector<unsigned char> labels = idx_header(2049, {3});
  labels.insert(labels.end(), {1, 2, 3});
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), labels);
  expect_io_error_naming(dir.path(), "test", "t10k-labels-idx1-ubyte.gz");
}

TEST(FashionMnist, ReadsASmallWellFormedPair) {
  const test::TempDir dir("fashion_mnist");
  std::vector<unsigned char> images = idx_header(2051, {2, 3, 4});
  for (int i = 0; i < 24; ++i) images.push_back(static_cast<unsigned char>(i));
  write_gz(dir.file("train-images-idx3-ubyte.gz"), images);
  std::vector<unsigned char> labels = idx_header(2049, {2});
  labels.insert(labels.end(), {9, 0});
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), labels);
  const FashionMnistSplit split = read_fashion_mnist(dir.path(), "train");
  EXPECT_EQ(split.count, 2);
  EXPECT_EQ(split.rows, 3);
  EXPECT_EQ(split.cols, 4);
  EXPECT_EQ(split.pixels.at(23), 23);
  EXPECT_EQ(split.labels, (std::vector<std::uint8_t>{9, 0}));
}

}  // namespace
}  // namespace pixab
