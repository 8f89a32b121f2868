// The demo dataset read back through the VOC reader: layout, pixels, boxes, classes, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "io/voc_dataset.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/demo/demo_data.hpp"
#include "workers/demo/demo_model.hpp"

namespace pixab {
namespace {

namespace fs = std::filesystem;

constexpr int kImages = 6;

std::string read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Every file under dir, by path relative to dir, with its bytes.
std::vector<std::pair<std::string, std::string>> all_files(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file())
      files.emplace_back(fs::relative(entry.path(), dir).string(), read_bytes(entry));
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool fashion_mnist_installed() {
  return fs::exists(fs::path(kFashionMnistDir) / "t10k-images-idx3-ubyte.gz");
}

DemoDataOptions small_options(std::uint64_t seed) {
  DemoDataOptions options;
  options.images = kImages;
  options.seed = seed;
  return options;
}

bool has_ink(const cv::Mat& gray, const cv::Rect& region) { return cv::countNonZero(gray(region)) > 0; }

// The box must be the tight box of non-zero pixels: every edge row and column holds ink.
void expect_tight_box(const cv::Mat& gray, const cv::Rect& box) {
  EXPECT_TRUE(has_ink(gray, cv::Rect(box.x, box.y, box.width, 1)));
  EXPECT_TRUE(has_ink(gray, cv::Rect(box.x, box.y + box.height - 1, box.width, 1)));
  EXPECT_TRUE(has_ink(gray, cv::Rect(box.x, box.y, 1, box.height)));
  EXPECT_TRUE(has_ink(gray, cv::Rect(box.x + box.width - 1, box.y, 1, box.height)));
}

TEST(DemoData, WritesVocLayoutOfDistinctLookAlikeGarments) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const test::TempDir dir("demo");
  const fs::path root = dir.file("demo");
  const int objects = write_demo_data(root.string(), small_options(7));

  std::ostringstream expected_list;
  for (int i = 0; i < kImages; ++i)
    expected_list << "demo_" << std::setw(6) << std::setfill('0') << i << '\n';
  EXPECT_EQ(read_bytes(root / "ImageSets/Main/test.txt"), expected_list.str());

  const std::set<std::string> look_alikes = {"T-shirt/top", "Pullover", "Coat", "Shirt"};
  const std::vector<VocEntry> entries = list_voc_split(root.string(), "test");
  ASSERT_EQ(entries.size(), static_cast<size_t>(kImages));
  int objects_read = 0;
  for (const VocEntry& entry : entries) {
    SCOPED_TRACE(entry.id);
    EXPECT_EQ(entry.image_path, (root / "JPEGImages" / (entry.id + ".png")).string());
    const cv::Mat image = cv::imread(entry.image_path, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(image.type(), CV_8UC3);
    ASSERT_EQ(image.size(), cv::Size(kDemoInputSize, kDemoInputSize));
    std::vector<cv::Mat> channels;
    cv::split(image, channels);
    EXPECT_EQ(cv::countNonZero(channels[0] != channels[1]), 0);
    EXPECT_EQ(cv::countNonZero(channels[0] != channels[2]), 0);
    const cv::Mat& gray = channels[0];

    const VocAnnotation annotation = read_voc_annotation(entry.annotation_path);
    EXPECT_EQ(annotation.filename, entry.id + ".png");
    EXPECT_EQ(annotation.width, kDemoInputSize);
    EXPECT_EQ(annotation.height, kDemoInputSize);
    ASSERT_GE(annotation.objects.size(), 2u);
    ASSERT_LE(annotation.objects.size(), 4u);
    objects_read += static_cast<int>(annotation.objects.size());

    std::set<std::string> names;
    std::vector<cv::Rect> boxes;
    cv::Mat covered(gray.size(), CV_8UC1, cv::Scalar(0));
    for (const VocObject& object : annotation.objects) {
      SCOPED_TRACE(object.name);
      EXPECT_EQ(look_alikes.count(object.name), 1u);
      names.insert(object.name);
      EXPECT_FALSE(object.difficult);
      const Box& b = object.box;
      const cv::Rect box(static_cast<int>(b.x1), static_cast<int>(b.y1), static_cast<int>(b.x2 - b.x1),
                         static_cast<int>(b.y2 - b.y1));
      EXPECT_EQ(static_cast<float>(box.x), b.x1);  // integer pixel edges
      EXPECT_EQ(static_cast<float>(box.br().y), b.y2);
      ASSERT_EQ(box & cv::Rect(0, 0, gray.cols, gray.rows), box) << "box leaves the canvas";
      EXPECT_LE(box.width, 28);
      EXPECT_LE(box.height, 28);
      expect_tight_box(gray, box);
      for (const cv::Rect& other : boxes) EXPECT_TRUE((box & other).empty()) << "boxes overlap";
      boxes.push_back(box);
      covered(box).setTo(255);
    }
    EXPECT_EQ(names.size(), annotation.objects.size()) << "classes repeat within an image";
    EXPECT_EQ(cv::countNonZero(gray & ~covered), 0) << "ink outside every box";
  }
  EXPECT_EQ(objects, objects_read);
}

TEST(DemoData, SameSeedGivesIdenticalFilesAndAnotherSeedDifferentOnes) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const test::TempDir dir("demo");
  write_demo_data(dir.file("a"), small_options(11));
  write_demo_data(dir.file("b"), small_options(11));
  write_demo_data(dir.file("c"), small_options(12));
  const auto a = all_files(dir.file("a"));
  EXPECT_EQ(a.size(), 2u * kImages + 1);
  EXPECT_TRUE(a == all_files(dir.file("b")));
  const auto c = all_files(dir.file("c"));
  ASSERT_EQ(a.size(), c.size());
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i].second != c[i].second;
  EXPECT_GT(differing, kImages);
}

// 2 to 4 objects "as the canvas allows": on the 64-pixel canvas all three counts must actually occur.
TEST(DemoData, ObjectCountsSpanTwoToFour) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const test::TempDir dir("demo");
  DemoDataOptions options;
  options.images = 40;
  write_demo_data(dir.path(), options);
  std::set<size_t> counts;
  for (const VocEntry& entry : list_voc_split(dir.path(), "test")) {
    counts.insert(read_voc_annotation(entry.annotation_path).objects.size());
  }
  EXPECT_EQ(counts, (std::set<size_t>{2, 3, 4}));
}

TEST(DemoData, RewriteReplacesTheOldListAndRefusesATooSmallCanvas) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const test::TempDir dir("demo");
  write_demo_data(dir.path(), small_options(1));
  DemoDataOptions fewer = small_options(1);
  fewer.images = 2;
  write_demo_data(dir.path(), fewer);
  EXPECT_EQ(read_bytes(dir.file("ImageSets/Main/test.txt")), "demo_000000\ndemo_000001\n");
  EXPECT_FALSE(fs::exists(dir.file("ImageSets/Main/test.txt.tmp")));

  DemoDataOptions tiny = small_options(1);
  tiny.canvas_size = 40;
  EXPECT_THROW(write_demo_data(dir.file("tiny"), tiny), ConfigError);
}

}  // namespace
}  // namespace pixab
