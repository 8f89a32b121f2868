// Preprocessing exactly as the model contract says: resize (stretch, or shorter side then centre crop), scale
// to [0,1], normalise by mean/std, channels first; and the same geometry applied to boxes.
#pragma once

#include <torch/script.h>
#include <opencv2/core.hpp>

#include "io/box.hpp"
#include "io/model_meta.hpp"

namespace pixab {

// How an original image maps onto the model input: x' = x * scale_x - crop_left (likewise y).
struct InputGeometry {
  int resized_width = 0, resized_height = 0;
  double scale_x = 1, scale_y = 1;
  int crop_left = 0, crop_top = 0;
  int input_width = 0, input_height = 0;
};

InputGeometry input_geometry(int width, int height, const ModelMeta& meta);

// [C,H,W] float32 tensor in model-input space (on the CPU) from an 8-bit RGB image.
torch::Tensor to_model_input(const cv::Mat& rgb, const ModelMeta& meta);

// Model inputs [..., C, H, W] from 8-bit levels 0..255 of any numeric type (differentiable): scaled to [0,1],
// then normalised by mean/std. The one conversion of pixels into model inputs, so that an adversarial example
// rebuilt from its stored 8-bit pixels is the same input, bit for bit.
torch::Tensor levels_to_model_input(const torch::Tensor& levels, const ModelMeta& meta);

// The 8-bit levels [..., C, H, W] (float32 holding whole numbers) of model inputs made by
// levels_to_model_input: the inverse, rounded, which is exact for such inputs.
torch::Tensor model_input_to_levels(const torch::Tensor& inputs, const ModelMeta& meta);

// A box of the original image in model-input coordinates, clipped to the input.
Box map_box(const Box& box, const InputGeometry& geometry);

// Resized and cropped 8-bit RGB image at the model's input size (what the model sees, before normalisation).
cv::Mat resize_to_input(const cv::Mat& rgb, const ModelMeta& meta);

}  // namespace pixab
