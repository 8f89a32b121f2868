// Preprocessing and box mapping exactly as the model contract says (numbers checked by hand).
#include <gtest/gtest.h>

#include "workers/preprocess.hpp"

namespace pixab {
namespace {

ModelMeta meta_for(int height, int width, ResizeMode mode, int resize_to = 0) {
  ModelMeta meta;
  meta.name = "m";
  meta.input_height = height;
  meta.input_width = width;
  meta.channels = 3;
  meta.mean = {0.5, 0.25, 0.0};
  meta.std = {0.5, 0.25, 1.0};
  meta.resize_mode = mode;
  meta.resize_to = resize_to;
  meta.num_classes = 2;
  return meta;
}

TEST(Preprocess, ResizeThenCentreCropGeometry) {
  // 500x375 (w x h), shorter side 375 -> 256: long side round(500 * 256 / 375) = round(341.33) = 341.
  const auto g = input_geometry(500, 375, meta_for(224, 224, ResizeMode::kResizeThenCenterCrop, 256));
  EXPECT_EQ(g.resized_width, 341);
  EXPECT_EQ(g.resized_height, 256);
  EXPECT_EQ(g.crop_left, (341 - 224) / 2);  // 58
  EXPECT_EQ(g.crop_top, (256 - 224) / 2);   // 16
  EXPECT_DOUBLE_EQ(g.scale_x, 341.0 / 500.0);
  EXPECT_DOUBLE_EQ(g.scale_y, 256.0 / 375.0);
}

TEST(Preprocess, BoxThroughResizeThenCentreCrop) {
  const auto g = input_geometry(500, 375, meta_for(224, 224, ResizeMode::kResizeThenCenterCrop, 256));
  // x' = x * 341/500 - 58, y' = y * 256/375 - 16: (100, 75, 300, 300) -> (10.2, 35.2, 146.6, 188.8).
  const Box b = map_box(Box{100, 75, 300, 300}, g);
  EXPECT_NEAR(b.x1, 100 * 341.0 / 500.0 - 58, 1e-4);
  EXPECT_NEAR(b.y1, 75 * 256.0 / 375.0 - 16, 1e-4);
  EXPECT_NEAR(b.x2, 300 * 341.0 / 500.0 - 58, 1e-4);
  EXPECT_NEAR(b.y2, 300 * 256.0 / 375.0 - 16, 1e-4);
  // A box reaching past the crop is clipped to the input.
  const Box edge = map_box(Box{0, 0, 500, 375}, g);
  EXPECT_FLOAT_EQ(edge.x1, 0);
  EXPECT_FLOAT_EQ(edge.x2, 224);
  EXPECT_FLOAT_EQ(edge.y2, 224);
}

TEST(Preprocess, StretchScalesEachAxis) {
  const auto g = input_geometry(100, 50, meta_for(64, 64, ResizeMode::kStretch));
  EXPECT_DOUBLE_EQ(g.scale_x, 0.64);
  EXPECT_DOUBLE_EQ(g.scale_y, 1.28);
  EXPECT_EQ(g.crop_left, 0);
  const Box b = map_box(Box{50, 10, 100, 20}, g);
  EXPECT_FLOAT_EQ(b.x1, 32);
  EXPECT_FLOAT_EQ(b.y1, 12.8f);
}

TEST(Preprocess, ImageAtInputSizeIsNotResized) {
  const auto g = input_geometry(224, 224, meta_for(224, 224, ResizeMode::kResizeThenCenterCrop, 256));
  EXPECT_EQ(g.resized_width, 224);
  EXPECT_EQ(g.crop_left, 0);
  EXPECT_DOUBLE_EQ(g.scale_x, 1.0);
}

TEST(Preprocess, NormalisesPerChannelChannelsFirst) {
  cv::Mat rgb(2, 2, CV_8UC3, cv::Scalar(255, 0, 51));  // R = 255, G = 0, B = 51 (the Mat holds RGB here)
  const auto x = to_model_input(rgb, meta_for(2, 2, ResizeMode::kStretch));
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_NEAR(x[0][0][0].item<float>(), (1.0 - 0.5) / 0.5, 1e-6);
  EXPECT_NEAR(x[1][1][1].item<float>(), (0.0 - 0.25) / 0.25, 1e-6);
  EXPECT_NEAR(x[2][0][1].item<float>(), 0.2, 1e-6);
}

}  // namespace
}  // namespace pixab
