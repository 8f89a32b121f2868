// Box conventions shared by every dataset reader and the metrics.
#include "io/box.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pixab {

std::optional<Box> box_from_edges(double x1, double y1, double x2, double y2) {
  // Also false for NaN and infinities.
  const auto fits = [](double edge) { return std::abs(edge) <= std::numeric_limits<float>::max(); };
  if (!fits(x1) || !fits(y1) || !fits(x2) || !fits(y2)) return std::nullopt;
  return Box{static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x2), static_cast<float>(y2)};
}

std::optional<Box> box_from_voc(double xmin, double ymin, double xmax, double ymax) {
  return box_from_edges(xmin - 1.0, ymin - 1.0, xmax, ymax);
}

std::optional<Box> box_from_coco(double x, double y, double width, double height) {
  return box_from_edges(x, y, x + width, y + height);
}

bool box_is_empty(const Box& box) { return !(box.x2 > box.x1 && box.y2 > box.y1); }

Box clip_box(const Box& box, int width, int height) {
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  return Box{std::clamp(box.x1, 0.0f, w), std::clamp(box.y1, 0.0f, h), std::clamp(box.x2, 0.0f, w),
             std::clamp(box.y2, 0.0f, h)};
}

namespace {
// Number of pixel centres c + 0.5 (c = 0 .. size-1) with lo <= c + 0.5 <= hi.
int centres_between(float lo, float hi, int size) {
  const int first = std::max(0, static_cast<int>(std::ceil(lo - 0.5f)));
  const int last = std::min(size - 1, static_cast<int>(std::floor(hi - 0.5f)));
  return std::max(0, last - first + 1);
}
}  // namespace

bool box_contains_pixel_centre(const Box& box, int width, int height) {
  return centres_between(box.x1, box.x2, width) > 0 && centres_between(box.y1, box.y2, height) > 0;
}

}  // namespace pixab
