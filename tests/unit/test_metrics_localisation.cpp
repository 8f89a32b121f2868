// Localisation metrics on small maps whose answers can be read off by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "workers/metrics/localisation.hpp"

namespace pixab {
namespace {

cv::Mat map_from(int rows, int cols, std::vector<float> values) {
  return cv::Mat(rows, cols, CV_32FC1, values.data()).clone();
}

TEST(Localisation, RegionUsesPixelCentresInclusive) {
  // Box x 1..3, y 0..1.5 on 4x4: centres 1.5 and 2.5 in x; 0.5 in y (1.5 is on the edge: inside).
  const cv::Mat region = target_region({{1.0f, 0.0f, 3.0f, 1.5f}}, 4, 4);
  const unsigned char expected[16] = {0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 16; ++i) EXPECT_EQ(region.at<unsigned char>(i / 4, i % 4), expected[i]) << i;
  EXPECT_EQ(cv::countNonZero(target_region({{1.0f, 0.0f, 3.0f, 1.5f}, {3.2f, 3.2f, 4.0f, 4.0f}}, 4, 4)), 5);
}

TEST(Localisation, PointingGameHitMissToleranceAndNaN) {
  // The maximum 1.0 appears twice: (0, 3) first in raster order, then (3, 0).
  const cv::Mat e = map_from(4, 4, {0, 0, 0, 1, 0, 0.5f, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
  const cv::Mat top_right = target_region({{3, 0, 4, 1}}, 4, 4);
  const cv::Mat bottom_left = target_region({{0, 3, 1, 4}}, 4, 4);
  EXPECT_EQ(pointing_game(e, top_right, 0), 1.0);
  EXPECT_EQ(pointing_game(e, bottom_left, 0), 0.0);  // the first maximum decides, not any maximum
  // Region: pixel (2, 3), distance 2 from the peak (0, 3).
  const cv::Mat below = target_region({{3, 2, 4, 3}}, 4, 4);
  EXPECT_EQ(pointing_game(e, below, 1.9), 0.0);
  EXPECT_EQ(pointing_game(e, below, 2.0), 1.0);
  // Region: pixel (1, 2), distance sqrt(2).
  const cv::Mat diagonal = target_region({{2, 1, 3, 2}}, 4, 4);
  EXPECT_EQ(pointing_game(e, diagonal, 1.0), 0.0);
  EXPECT_EQ(pointing_game(e, diagonal, 1.5), 1.0);
  EXPECT_TRUE(std::isnan(pointing_game(e, target_region({}, 4, 4), 0)));
  // A tolerance beyond the image reaches every pixel; one beyond int's range must not overflow the radius.
  EXPECT_EQ(pointing_game(e, bottom_left, 1e300), 1.0);
  EXPECT_EQ(pointing_game(e, bottom_left, std::numeric_limits<double>::infinity()), 1.0);
}

TEST(Localisation, ProportionOfAKnownMap) {
  // Sum 3; the left column holds 0.5 + 0.5 + 1 = 2: 66.7 %.
  const cv::Mat e = map_from(3, 2, {0.5f, 1, 0.5f, 0, 1, 0});
  EXPECT_DOUBLE_EQ(proportion(e, target_region({{0, 0, 1, 3}}, 3, 2)), 200.0 / 3.0);
  EXPECT_DOUBLE_EQ(proportion(e, target_region({{0, 0, 2, 3}}, 3, 2)), 100.0);
  EXPECT_TRUE(std::isnan(proportion(cv::Mat::zeros(3, 2, CV_32FC1), target_region({{0, 0, 1, 3}}, 3, 2))));
  EXPECT_TRUE(std::isnan(proportion(e, target_region({}, 3, 2))));
}

TEST(Localisation, LargestEightConnectedComponentBox) {
  // Threshold 0.5 * max 1.0. Component A: (0,0), (1,1) (diagonal: one 8-connected component), area 2.
  // Component B: (3,2), (3,3), (2,3), area 3: the largest. (0,3) = 0.4 is below the threshold.
  const cv::Mat e = map_from(4, 4, {1, 0, 0, 0.4f, 0, 0.6f, 0, 0, 0, 0, 0, 0.7f, 0, 0, 0.5f, 0.9f});
  const Box box = localisation_box(e, 0.5);
  EXPECT_EQ(box.x1, 2);
  EXPECT_EQ(box.y1, 2);
  EXPECT_EQ(box.x2, 4);
  EXPECT_EQ(box.y2, 4);
  // With threshold 0.95 only (0,0) remains.
  const Box peak = localisation_box(e, 0.95);
  EXPECT_EQ(peak.x1, 0);
  EXPECT_EQ(peak.x2, 1);
  EXPECT_EQ(peak.y2, 1);
}

TEST(Localisation, EqualComponentsFirstInRasterOrderWins) {
  const cv::Mat e = map_from(3, 3, {0, 0, 1, 0, 0, 0, 1, 0, 0});
  const Box box = localisation_box(e, 0.5);
  EXPECT_EQ(box.x1, 2);
  EXPECT_EQ(box.y1, 0);
}

TEST(Localisation, AllZeroMapTakenLiterally) {
  // Every pixel is a maximum and passes the threshold (docs/metrics.md): the pointing game's point is the
  // first in raster order, (0, 0), and the localisation box is the whole map.
  const cv::Mat zero = cv::Mat::zeros(4, 4, CV_32FC1);
  EXPECT_EQ(pointing_game(zero, target_region({{0, 0, 1, 1}}, 4, 4), 0), 1.0);
  EXPECT_EQ(pointing_game(zero, target_region({{1, 1, 4, 4}}, 4, 4), 0), 0.0);
  EXPECT_DOUBLE_EQ(localisation_iou(zero, {{0, 0, 4, 4}}, 0.15), 1.0);
}

TEST(Localisation, IouAndBestMatchingBox) {
  EXPECT_DOUBLE_EQ(box_iou({0, 0, 2, 2}, {1, 0, 3, 2}), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(box_iou({0, 0, 1, 1}, {2, 2, 3, 3}), 0.0);
  const cv::Mat e = map_from(4, 4, {0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0});  // box [1,1,3,3]
  EXPECT_DOUBLE_EQ(localisation_iou(e, {{0, 0, 1, 1}, {1, 1, 3, 4}}, 0.15), 4.0 / 6.0);
  EXPECT_TRUE(std::isnan(localisation_iou(e, {}, 0.15)));
}

}  // namespace
}  // namespace pixab
