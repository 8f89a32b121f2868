// The model passes a CAM method makes per batch, described as data: each method's registry entry gives its
// own, and `pixab bench` counts them and replays them alone for the method's time limit.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <vector>

namespace pixab {

enum class PassKind {
  kFeatures,          // rows through features
  kHead,              // rows through head, no graph
  kHeadWithBackward,  // rows through head keeping the graph, and one backward pass through it
  kForward,           // rows through the whole network
  kBackward,          // one more backward pass through the graph a kHeadWithBackward kept
  kForwardWithBackward,  // rows through the whole network keeping the graph, and a backward pass to the input
};

// What the rows of a pass hold. The limit feeds the model the values the method feeds it: a forward pass over
// 64 copies of one image was measured ~20% faster than over 64 differently masked images, so copies would
// flatter the limit (docs/performance.md).
enum class RowContent {
  kInputs,            // x
  kActivations,       // A
  kZeros,             // x_b = 0 or 0_A: a baseline, one row per batch, cached by the CamBatch
  kChannelMasked,     // x * s(U(A^k)) for row (image, k): Score-CAM
  kChannelAblated,    // A with channel k zeroed for row (image, k): Ablation-CAM
  kPlacementKept,     // A * M_P for row (image, P): Pixab-CAM's preservation
  kPlacementRemoved,  // A * (1 - M_P): Pixab-CAM's deletion
  kPixelsMasked,  // x with about half its pixels zeroed: the metrics' masked, deletion and insertion inputs
};

// `rows` rows through one model method, in calls of at most `chunk` rows, as a method makes them for one
// batch.
struct PassStep {
  PassKind kind;
  RowContent content;
  int64_t rows;
  int64_t chunk;
  torch::Tensor placement_masks = {};  // M_P [P,h,w] on the model's device, for the placement contents
};
using PassPlan = std::vector<PassStep>;

}  // namespace pixab
