// Localisation metrics (metrics.md, "Localisation").
#include "workers/metrics/localisation.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace pixab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

cv::Mat target_region(const std::vector<Box>& boxes, int height, int width) {
  cv::Mat region = cv::Mat::zeros(height, width, CV_8UC1);
  for (const Box& box : boxes) {
    for (int i = 0; i < height; ++i) {
      const double cy = i + 0.5;
      if (cy < box.y1 || cy > box.y2) continue;
      for (int j = 0; j < width; ++j) {
        const double cx = j + 0.5;
        if (cx >= box.x1 && cx <= box.x2) region.at<unsigned char>(i, j) = 1;
      }
    }
  }
  return region;
}

double pointing_game(const cv::Mat& explanation, const cv::Mat& region, double tolerance_px) {
  CV_Assert(explanation.type() == CV_32FC1 && region.type() == CV_8UC1 && explanation.size == region.size);
  if (cv::countNonZero(region) == 0) return kNaN;
  // cv::minMaxLoc scans in raster order and keeps the first maximum.
  cv::Point peak;
  cv::minMaxLoc(explanation, nullptr, nullptr, nullptr, &peak);
  // No region pixel is farther than max(H, W), and clamping first keeps a huge tolerance within int's range.
  const int radius = static_cast<int>(
      std::floor(std::min(tolerance_px, static_cast<double>(std::max(region.rows, region.cols)))));
  for (int i = std::max(0, peak.y - radius); i <= std::min(region.rows - 1, peak.y + radius); ++i) {
    for (int j = std::max(0, peak.x - radius); j <= std::min(region.cols - 1, peak.x + radius); ++j) {
      const double di = i - peak.y, dj = j - peak.x;
      if (di * di + dj * dj <= tolerance_px * tolerance_px && region.at<unsigned char>(i, j)) return 1.0;
    }
  }
  return 0.0;
}

double proportion(const cv::Mat& explanation, const cv::Mat& region) {
  CV_Assert(explanation.type() == CV_32FC1 && region.type() == CV_8UC1 && explanation.size == region.size);
  if (cv::countNonZero(region) == 0) return kNaN;
  double inside = 0, total = 0;
  for (int i = 0; i < explanation.rows; ++i) {
    for (int j = 0; j < explanation.cols; ++j) {
      const double e = explanation.at<float>(i, j);
      total += e;
      if (region.at<unsigned char>(i, j)) inside += e;
    }
  }
  return total == 0 ? kNaN : 100.0 * inside / total;
}

Box localisation_box(const cv::Mat& explanation, double threshold) {
  CV_Assert(explanation.type() == CV_32FC1 && !explanation.empty());
  double peak = 0;
  cv::minMaxLoc(explanation, nullptr, &peak);
  const cv::Mat mask = explanation >= threshold * peak;
  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  // Equal areas: the component whose first pixel comes first in raster order wins (label numbering alone
  // does not promise that order for every labelling algorithm).
  std::vector<int> first_pixel(static_cast<std::size_t>(count), -1);
  for (int i = 0; i < labels.rows; ++i) {
    for (int j = 0; j < labels.cols; ++j) {
      int& first = first_pixel[static_cast<std::size_t>(labels.at<int>(i, j))];
      if (first < 0) first = i * labels.cols + j;
    }
  }
  int best = 0;
  for (int label = 1; label < count; ++label) {
    const int area = stats.at<int>(label, cv::CC_STAT_AREA);
    const int best_area = best == 0 ? -1 : stats.at<int>(best, cv::CC_STAT_AREA);
    if (area > best_area || (area == best_area && first_pixel[static_cast<std::size_t>(label)] <
                                                       first_pixel[static_cast<std::size_t>(best)]))
      best = label;
  }
  if (best == 0) return {};  // unreachable: the maximum itself always passes the threshold
  const auto stat = [&](int which) { return static_cast<float>(stats.at<int>(best, which)); };
  return {stat(cv::CC_STAT_LEFT), stat(cv::CC_STAT_TOP), stat(cv::CC_STAT_LEFT) + stat(cv::CC_STAT_WIDTH),
          stat(cv::CC_STAT_TOP) + stat(cv::CC_STAT_HEIGHT)};
}

double box_iou(const Box& a, const Box& b) {
  const double iw = std::max(0.0, static_cast<double>(std::min(a.x2, b.x2)) - std::max(a.x1, b.x1));
  const double ih = std::max(0.0, static_cast<double>(std::min(a.y2, b.y2)) - std::max(a.y1, b.y1));
  const double area_a = static_cast<double>(a.x2 - a.x1) * (a.y2 - a.y1);
  const double area_b = static_cast<double>(b.x2 - b.x1) * (b.y2 - b.y1);
  const double uni = area_a + area_b - iw * ih;
  return uni > 0 ? iw * ih / uni : 0.0;
}

double localisation_iou(const cv::Mat& explanation, const std::vector<Box>& boxes, double threshold) {
  if (boxes.empty()) return kNaN;
  const Box found = localisation_box(explanation, threshold);
  double best = 0;
  for (const Box& box : boxes) best = std::max(best, box_iou(found, box));
  return best;
}

}  // namespace pixab
