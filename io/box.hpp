// Axis-aligned boxes in continuous pixel-edge coordinates, and the VOC/COCO conventions that produce them.
#pragma once

#include <optional>
#include <vector>

namespace pixab {

// [x1, y1, x2, y2], 0-based pixel edges: pixel (i, j) is inside when its centre (j + 0.5, i + 0.5) is
// (metrics.md).
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

// The box of edges read as doubles; nullopt when an edge is beyond a float's range (about 3.4e38), which a
// float would hold as an infinity (and the conversion is undefined in ISO C++): every reader builds its boxes
// here and refuses such an annotation.
std::optional<Box> box_from_edges(double x1, double y1, double x2, double y2);

// A VOC box is 1-based and inclusive: xmin..xmax covers pixels xmin-1 .. xmax-1, i.e. edges [xmin-1, xmax].
std::optional<Box> box_from_voc(double xmin, double ymin, double xmax, double ymax);

// A COCO box [x, y, w, h] is already in pixel edges: [x, x + w] x [y, y + h].
std::optional<Box> box_from_coco(double x, double y, double width, double height);

// True when the box encloses no area (x2 <= x1 or y2 <= y1): readers drop such boxes.
bool box_is_empty(const Box& box);

// True when the box contains at least one pixel centre of a width x height image (after clipping).
bool box_contains_pixel_centre(const Box& box, int width, int height);

// Clips to [0, width] x [0, height].
Box clip_box(const Box& box, int width, int height);

}  // namespace pixab
