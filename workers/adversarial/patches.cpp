// Patch geometry: sizes, positions and masks.
#include "workers/adversarial/patches.hpp"

#include <cmath>
#include <string>

#include "io/item_status.hpp"

namespace pixab {

namespace {

// Draws per patch before the whole layout is redrawn, and layouts before the item is given up.
constexpr int kPlacementTries = 1000;
constexpr int kLayoutTries = 100;

}  // namespace

bool PatchRect::overlaps(const PatchRect& other) const {
  return x1 < other.x2 && other.x1 < x2 && y1 < other.y2 && other.y1 < y2;
}

Box PatchRect::box() const {
  return {static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x2), static_cast<float>(y2)};
}

std::pair<int, int> patch_side_range(int side, double size_min, double size_max) {
  // The small tolerance keeps 0.15 * 200 = 30 at 30 despite binary rounding.
  const int lo = std::max(1, static_cast<int>(std::ceil(size_min * side - 1e-9)));
  const int hi = std::min(side, static_cast<int>(std::floor(size_max * side + 1e-9)));
  return {std::min(lo, side), std::max(std::min(lo, side), hi)};
}

std::vector<PatchRect> draw_patches(PortableRng& rng, int count, int height, int width, double size_min,
                                    double size_max) {
  const auto [h_lo, h_hi] = patch_side_range(height, size_min, size_max);
  const auto [w_lo, w_hi] = patch_side_range(width, size_min, size_max);
  for (int layout = 0; layout < kLayoutTries; ++layout) {
    std::vector<PatchRect> patches;
    for (int tries = 0; static_cast<int>(patches.size()) < count && tries < kPlacementTries; ++tries) {
      PatchRect patch;
      const int h = static_cast<int>(rng.between(h_lo, h_hi));
      const int w = static_cast<int>(rng.between(w_lo, w_hi));
      patch.y1 = static_cast<int>(rng.between(0, height - h));
      patch.x1 = static_cast<int>(rng.between(0, width - w));
      patch.y2 = patch.y1 + h;
      patch.x2 = patch.x1 + w;
      bool free = true;
      for (const PatchRect& placed : patches) free = free && !placed.overlaps(patch);
      if (free) patches.push_back(patch);
    }
    if (static_cast<int>(patches.size()) == count) return patches;
  }
  throw ItemError(ItemStatus::kAttackFailed,
                  "cannot place " + std::to_string(count) + " non-overlapping patches in " + std::to_string(width) +
                      "x" + std::to_string(height) + " pixels (" + std::to_string(kLayoutTries) + " layouts tried)");
}

torch::Tensor patch_masks(const std::vector<PatchRect>& patches, int height, int width) {
  torch::Tensor masks = torch::zeros({static_cast<int64_t>(patches.size()), 1, height, width});
  for (std::size_t p = 0; p < patches.size(); ++p) {
    const PatchRect& r = patches[p];
    masks[static_cast<int64_t>(p)]
        .narrow(1, r.y1, r.height())
        .narrow(2, r.x1, r.width())
        .fill_(1.0);
  }
  return masks;
}

}  // namespace pixab
