// The model contract's preprocessing; metrics and boxes depend on it being exact.
#include "workers/preprocess.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "io/error.hpp"

namespace pixab {

InputGeometry input_geometry(int width, int height, const ModelMeta& meta) {
  InputGeometry g;
  g.input_width = meta.input_width;
  g.input_height = meta.input_height;
  if (width == meta.input_width && height == meta.input_height) {
    g.resized_width = width;
    g.resized_height = height;
    return g;  // already at the input size: not resized (model-contract.md)
  }
  if (meta.resize_mode == ResizeMode::kStretch) {
    g.resized_width = meta.input_width;
    g.resized_height = meta.input_height;
  } else {
    // The shorter side becomes resize_to, the longer one round(long * resize_to / short).
    const bool width_is_short = width <= height;
    const double shorter = width_is_short ? width : height;
    const double longer = width_is_short ? height : width;
    const int new_long = static_cast<int>(std::lround(longer * meta.resize_to / shorter));
    g.resized_width = width_is_short ? meta.resize_to : new_long;
    g.resized_height = width_is_short ? new_long : meta.resize_to;
    g.crop_left = (g.resized_width - meta.input_width) / 2;
    g.crop_top = (g.resized_height - meta.input_height) / 2;
  }
  g.scale_x = static_cast<double>(g.resized_width) / width;
  g.scale_y = static_cast<double>(g.resized_height) / height;
  return g;
}

cv::Mat resize_to_input(const cv::Mat& rgb, const ModelMeta& meta) {
  const InputGeometry g = input_geometry(rgb.cols, rgb.rows, meta);
  cv::Mat resized = rgb;
  if (g.resized_width != rgb.cols || g.resized_height != rgb.rows) {
    cv::resize(rgb, resized, cv::Size(g.resized_width, g.resized_height), 0, 0, cv::INTER_LINEAR);
  }
  return resized(cv::Rect(g.crop_left, g.crop_top, g.input_width, g.input_height)).clone();
}

torch::Tensor to_model_input(const cv::Mat& rgb, const ModelMeta& meta) {
  if (rgb.type() != CV_8UC3) throw Error("to_model_input expects 8-bit RGB");
  if (meta.channels != 3)
    throw ModelError("model " + meta.name + ": only 3-channel (RGB) models are supported");
  const cv::Mat input = resize_to_input(rgb, meta);
  const torch::Tensor hwc = torch::from_blob(input.data, {input.rows, input.cols, 3}, torch::kUInt8);
  return levels_to_model_input(hwc.permute({2, 0, 1}), meta).contiguous();
}

torch::Tensor levels_to_model_input(const torch::Tensor& levels, const ModelMeta& meta) {
  const torch::Tensor unit = levels.to(torch::kFloat) / 255.0;
  std::vector<torch::Tensor> channels;
  for (int c = 0; c < meta.channels; ++c) channels.push_back((unit.select(-3, c) - meta.mean[c]) / meta.std[c]);
  return torch::stack(channels, -3);
}

torch::Tensor model_input_to_levels(const torch::Tensor& inputs, const ModelMeta& meta) {
  std::vector<torch::Tensor> channels;
  for (int c = 0; c < meta.channels; ++c)
    channels.push_back(((inputs.select(-3, c) * meta.std[c] + meta.mean[c]) * 255.0).round().clamp(0, 255));
  return torch::stack(channels, -3);
}

Box map_box(const Box& box, const InputGeometry& g) {
  const Box mapped{static_cast<float>(box.x1 * g.scale_x - g.crop_left),
                   static_cast<float>(box.y1 * g.scale_y - g.crop_top),
                   static_cast<float>(box.x2 * g.scale_x - g.crop_left),
                   static_cast<float>(box.y2 * g.scale_y - g.crop_top)};
  return clip_box(mapped, g.input_width, g.input_height);
}

}  // namespace pixab
