// What the fuzz targets check of a parse that succeeded: the promises a reader makes about what it returns,
// whose breach would pass bad data on silently. A breach aborts, which libFuzzer reports as a crash with its
// input.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "io/box.hpp"

namespace pixab::fuzz {

inline void require(bool kept, const char* promise) {
  if (kept) return;
  std::fprintf(stderr, "pixab fuzz: the parser broke its promise: %s\n", promise);
  std::abort();
}

// Finite pixel edges in order: what clipping, mapping to the model input and the localisation metrics assume.
inline void require_usable_box(const Box& box) {
  require(std::isfinite(box.x1) && std::isfinite(box.y1) && std::isfinite(box.x2) && std::isfinite(box.y2),
          "box edges are finite");
  require(box.x1 <= box.x2 && box.y1 <= box.y2, "box edges are in order");
}

}  // namespace pixab::fuzz
