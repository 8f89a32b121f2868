// The localisation metrics of metrics.md (pointing game, proportion, weakly supervised localisation) on one
// explanation E [H,W] and the target class's boxes in model-input coordinates.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

#include "io/box.hpp"

namespace pixab {

// The target region at H x W: 1 where a pixel centre (j + 0.5, i + 0.5) lies in any box (edges inclusive),
// else 0; CV_8UC1.
cv::Mat target_region(const std::vector<Box>& boxes, int height, int width);

// 1 when the first raster-order argmax of E is in the region, or (tolerance_px > 0) when any region pixel is
// within that Euclidean distance of it; else 0. NaN when the region is empty. E is CV_32FC1.
double pointing_game(const cv::Mat& explanation, const cv::Mat& region, double tolerance_px);

// 100 * sum of E over the region / sum of E; NaN when the region is empty or sum E = 0.
double proportion(const cv::Mat& explanation, const cv::Mat& region);

// The bounding box of the largest 8-connected component of E >= threshold * max E (ties: the component that
// comes first in raster order), in pixel-edge coordinates.
Box localisation_box(const cv::Mat& explanation, double threshold);

// Intersection over union of two boxes (continuous areas); 0 when the union is empty.
double box_iou(const Box& a, const Box& b);

// IoU of localisation_box with the best-matching box; NaN without boxes.
double localisation_iou(const cv::Mat& explanation, const std::vector<Box>& boxes, double threshold);

}  // namespace pixab
