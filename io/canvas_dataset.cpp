// All-zero canvases as a dataset.
#include "io/canvas_dataset.hpp"

#include <fmt/format.h>

#include "io/error.hpp"

namespace pixab {

namespace {

class CanvasDataset : public Dataset {
 public:
  explicit CanvasDataset(const DatasetConfig& config)
      : Dataset(config), width_(config.canvas_width), height_(config.canvas_height) {
    for (std::size_t i = 0; i < config.canvas_count; ++i)
      items_.push_back({fmt::format("ae2_{:06d}", i), "", ""});
  }
  const std::vector<DatasetItem>& items() const override { return items_; }
  ItemAnnotation annotation(const DatasetItem&) const override { return {}; }
  DecodedImage read_image(const DatasetItem&) const override {
    return {cv::Mat::zeros(height_, width_, CV_8UC3), 0};
  }

 private:
  int width_, height_;
  std::vector<DatasetItem> items_;  // in index order, which is id order
};

}  // namespace

std::unique_ptr<Dataset> open_canvas_dataset(const DatasetConfig& config) {
  if (config.canvas_count == 0) throw ConfigError("adversarial.count must be at least 1");
  if (config.canvas_width <= 0 || config.canvas_height <= 0)
    throw ConfigError(fmt::format("canvas size {}x{} is not positive", config.canvas_width, config.canvas_height));
  return std::make_unique<CanvasDataset>(config);
}

}  // namespace pixab
