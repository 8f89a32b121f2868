// Patch geometry of the adversarial examples: how many patches, where, how large, all from the item's own
// random stream (metrics.md "Adversarial examples").
#pragma once

#include <torch/script.h>

#include <vector>

#include "io/box.hpp"
#include "io/rng.hpp"

namespace pixab {

// A patch in model-input pixels: columns [x1, x2), rows [y1, y2).
struct PatchRect {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int width() const { return x2 - x1; }
  int height() const { return y2 - y1; }
  bool overlaps(const PatchRect& other) const;
  Box box() const;  // pixel-edge coordinates: exactly the patch's pixel centres are inside
};

// The whole pixel sides a patch may have on an input side of `side` pixels: [ceil(size_min * side),
// floor(size_max * side)], at least one pixel (and at least the lower bound where the range is empty).
std::pair<int, int> patch_side_range(int side, double size_min, double size_max);

// `count` non-overlapping patches: each patch's height and width drawn independently and uniformly from
// patch_side_range, its position uniformly, redrawn while it overlaps an earlier one. ItemError
// (kAttackFailed) when the patches do not fit after a bounded number of tries.
std::vector<PatchRect> draw_patches(PortableRng& rng, int count, int height, int width, double size_min,
                                    double size_max);

// 1 inside the patch, 0 elsewhere: [patches, 1, height, width] float32.
torch::Tensor patch_masks(const std::vector<PatchRect>& patches, int height, int width);

}  // namespace pixab
