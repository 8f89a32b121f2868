// The demo dataset (paper's MOD analogue): look-alike Fashion-MNIST items on a canvas, in VOC's layout.
#include "workers/demo/demo_data.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "io/voc_dataset.hpp"
#include "workers/demo/demo_model.hpp"
#include "io/rng.hpp"

namespace pixab {

namespace fs = std::filesystem;

namespace {

// The upper-body garments share shape and texture, so the objects of one image look alike and a CAM has to
// tell them apart by class evidence rather than by silhouette: what the MOD set is for. Their indices in
// fashion_mnist_labels(): T-shirt/top, Pullover, Coat, Shirt.
constexpr std::array<int, 4> kDemoClasses = {0, 2, 4, 6};
constexpr int kMinObjects = 2;
constexpr int kMaxObjects = static_cast<int>(kDemoClasses.size());  // classes are distinct within an image

// Bounds on the rejection sampling of positions: a layout is restarted when one item finds no free spot,
// because an early item in the middle of the canvas can leave no room at all for the rest.
constexpr int kLayoutAttempts = 100;
constexpr int kDrawsPerItem = 100;

constexpr const char* kSplit = "test";
// Not the output folder's name: the files stay byte-identical wherever they are written.
constexpr const char* kDemoFolder = "pixab_demo";

struct Placement {
  int x = 0, y = 0;  // top-left corner of the item's square on the canvas
};

// The demo classes' item indices in the test split. Blank items are left out: they would have no box.
std::array<std::vector<int>, kDemoClasses.size()> items_by_demo_class(const FashionMnistSplit& split) {
  std::array<std::vector<int>, kDemoClasses.size()> items;
  const std::size_t item_pixels = static_cast<std::size_t>(split.rows) * split.cols;
  for (int i = 0; i < split.count; ++i) {
    const auto* first = split.pixels.data() + i * item_pixels;
    if (std::all_of(first, first + item_pixels, [](std::uint8_t p) { return p == 0; })) continue;
    const auto demo_class = std::find(kDemoClasses.begin(), kDemoClasses.end(), split.labels[i]);
    if (demo_class != kDemoClasses.end()) items[demo_class - kDemoClasses.begin()].push_back(i);
  }
  for (std::size_t c = 0; c < items.size(); ++c) {
    if (items[c].empty()) {
      throw IoError("Fashion-MNIST " + std::string(kSplit) + " split has no item of class " +
                    fashion_mnist_labels()[kDemoClasses[c]]);
    }
  }
  return items;
}

bool squares_overlap(const Placement& a, const Placement& b, const cv::Size& item) {
  return a.x < b.x + item.width && b.x < a.x + item.width && a.y < b.y + item.height &&
         b.y < a.y + item.height;
}

std::optional<std::vector<Placement>> place_items(PortableRng& rng, int count, int canvas,
                                                  const cv::Size& item) {
  for (int attempt = 0; attempt < kLayoutAttempts; ++attempt) {
    std::vector<Placement> placed;
    for (int draw = 0; draw < kDrawsPerItem * count && static_cast<int>(placed.size()) < count; ++draw) {
      const Placement candidate{static_cast<int>(rng.between(0, canvas - item.width)),
                                static_cast<int>(rng.between(0, canvas - item.height))};
      const bool free = std::none_of(placed.begin(), placed.end(), [&](const Placement& other) {
        return squares_overlap(candidate, other, item);
      });
      if (free) placed.push_back(candidate);
    }
    if (static_cast<int>(placed.size()) == count) return placed;
  }
  return std::nullopt;
}

// "2 to 4 as the canvas allows": the drawn count first, then fewer when that many do not fit.
std::vector<Placement> layout(PortableRng& rng, int wanted, int canvas, const cv::Size& item) {
  for (int count = wanted; count >= kMinObjects; --count) {
    if (auto placed = place_items(rng, count, canvas, item)) return *placed;
  }
  throw ConfigError("demo data: no room found for " + std::to_string(kMinObjects) +
                    " non-overlapping items on a " + std::to_string(canvas) +
                    "-pixel canvas; use a larger canvas");
}

// Distinct classes for one image: the first `count` entries of a partial Fisher-Yates shuffle.
std::vector<int> draw_class_slots(PortableRng& rng, int count) {
  std::array<int, kDemoClasses.size()> slots{};
  for (std::size_t i = 0; i < slots.size(); ++i) slots[i] = static_cast<int>(i);
  for (int i = 0; i < count; ++i) {
    std::swap(slots[i], slots[rng.between(i, static_cast<std::int64_t>(slots.size()) - 1)]);
  }
  return std::vector<int>(slots.begin(), slots.begin() + count);
}

std::string demo_id(int index) {
  char id[32];
  std::snprintf(id, sizeof id, "demo_%06d", index);
  return id;
}

void ensure_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw IoError("cannot create directory " + dir.string() + ": " + error.message());
}

void write_png(const fs::path& path, const cv::Mat& gray) {
  // Three identical channels: the run decodes every image to 8-bit RGB, and VOC's images are colour.
  cv::Mat rgb;
  cv::cvtColor(gray, rgb, cv::COLOR_GRAY2BGR);
  bool written = false;
  try {
    written = cv::imwrite(path.string(), rgb, {cv::IMWRITE_PNG_COMPRESSION, 9});
  } catch (const cv::Exception& e) {
    throw IoError("cannot write image " + path.string() + ": " + e.what());
  }
  if (!written) throw IoError("cannot write image " + path.string());
}

// Written through a temporary name and a rename, so the list exists only when every image and annotation
// does.
void write_split_list(const fs::path& path, const std::vector<std::string>& ids) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream list(temporary, std::ios::binary | std::ios::trunc);
    for (const std::string& id : ids) list << id << '\n';
    list.close();
    if (!list) throw IoError("cannot write " + temporary.string());
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    throw IoError("cannot rename " + temporary.string() + " to " + path.string() + ": " + error.message());
  }
}

}  // namespace

int write_demo_data(const std::string& out_dir, const DemoDataOptions& options) {
  const int canvas = options.canvas_size == 0 ? kDemoInputSize : options.canvas_size;
  if (options.images < 1) throw ConfigError("demo data: images must be at least 1");
  if (canvas < 1) throw ConfigError("demo data: canvas_size must be positive");

  const FashionMnistSplit split = read_fashion_mnist(options.fashion_mnist_dir, kSplit);
  const cv::Size item_size(split.cols, split.rows);
  if (canvas < 2 * std::max(item_size.width, item_size.height)) {
    throw ConfigError("demo data: a canvas of " + std::to_string(canvas) + " pixels cannot hold " +
                      std::to_string(kMinObjects) + " non-overlapping " + std::to_string(item_size.width) +
                      "x" + std::to_string(item_size.height) + " items");
  }
  const auto items_of_class = items_by_demo_class(split);

  const fs::path root(out_dir);
  const fs::path list_path = root / "ImageSets" / "Main" / (std::string(kSplit) + ".txt");
  // A list left by an earlier run would make a half-rewritten set look finished.
  std::error_code error;
  fs::remove(list_path, error);
  if (error) throw IoError("cannot remove the old " + list_path.string() + ": " + error.message());
  for (const char* dir : {"JPEGImages", "Annotations", "ImageSets/Main"}) ensure_directory(root / dir);

  PortableRng rng(options.seed);
  const auto& labels = fashion_mnist_labels();
  std::vector<std::string> ids;
  std::array<int, kMaxObjects + 1> images_with_count{};
  int objects_written = 0;
  for (int index = 0; index < options.images; ++index) {
    const int wanted = static_cast<int>(rng.between(kMinObjects, kMaxObjects));
    const std::vector<Placement> placements = layout(rng, wanted, canvas, item_size);
    const std::vector<int> class_slots = draw_class_slots(rng, static_cast<int>(placements.size()));

    const std::string id = demo_id(index);
    cv::Mat image(canvas, canvas, CV_8UC1, cv::Scalar(0));
    VocAnnotation annotation;
    annotation.folder = kDemoFolder;
    annotation.filename = id + ".png";
    annotation.width = annotation.height = canvas;
    annotation.depth = 3;
    for (std::size_t i = 0; i < placements.size(); ++i) {
      const std::vector<int>& candidates = items_of_class[class_slots[i]];
      const int item = candidates[rng.below(candidates.size())];
      // A read-only view: cv::Mat's constructor takes non-const data, and the pixels are only copied from.
      const cv::Mat pixels(item_size, CV_8UC1,
                           const_cast<std::uint8_t*>(split.pixels.data()) + item * item_size.area());
      const cv::Rect square(placements[i].x, placements[i].y, item_size.width, item_size.height);
      pixels.copyTo(image(square));

      const cv::Rect ink = cv::boundingRect(pixels);  // the tight box of the item's non-zero pixels
      const float x1 = static_cast<float>(square.x + ink.x), y1 = static_cast<float>(square.y + ink.y);
      annotation.objects.push_back(
          VocObject{labels[split.labels[item]], Box{x1, y1, x1 + ink.width, y1 + ink.height}, false, false});
    }
    write_png(root / "JPEGImages" / annotation.filename, image);
    write_voc_annotation((root / "Annotations" / (id + ".xml")).string(), annotation);

    ids.push_back(id);
    ++images_with_count[placements.size()];
    objects_written += static_cast<int>(placements.size());
  }
  write_split_list(list_path, ids);

  spdlog::info("demo data: {} images, {} objects in {} (images with 2/3/4 objects: {}/{}/{}), seed {}",
               ids.size(), objects_written, out_dir, images_with_count[2], images_with_count[3],
               images_with_count[4], options.seed);
  return objects_written;
}

}  // namespace pixab
