// Settings of the CAM methods (methods.md): batch sizes of the model passes, Ablation-CAM's score,
// Pixab-CAM's parameters and its named variants.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pixab {

// Which class score a method divides by: the logit z_c or the softmax probability p_c.
enum class ScoreKind { kLogit, kProbability };

struct PixabSettings {
  enum class Padding { kFull, kSame };
  enum class Terms { kDeletion, kPreservation, kBoth };
  std::vector<std::pair<int, int>> boxes{{1, 1}, {1, 2}, {2, 1}, {2, 2}};  // (height, width) in grid cells
  Padding padding = Padding::kFull;
  Terms terms = Terms::kBoth;
  ScoreKind score = ScoreKind::kProbability;
  bool strict = false;  // clamp D and R at 0 before the product
};

// Finer-CAM's comparison with the classes most easily confused with the target.
struct FinerSettings {
  int comparisons = 3;  // the classes j != c whose logits are closest to z_c
  double alpha = 1.0;   // the score is sum_j p_j (z_c - alpha z_j) / sum_j p_j
};

struct CamSettings {
  int head_batch_size = 512;  // rows of masked activations per head pass (Ablation-CAM, Pixab-CAM)
  int full_batch_size = 64;   // masked images per full forward pass (Score-CAM)
  ScoreKind ablation_score = ScoreKind::kLogit;
  FinerSettings finer;
  double fem_sigmas = 2.0;  // FEM: a cell counts when it exceeds its channel's mean + fem_sigmas * std
  std::uint64_t seed = 0;   // Random-CAM's weights are drawn from (seed, item id)
  PixabSettings pixab;                                          // the plain `pixab_cam`
  std::vector<std::pair<std::string, PixabSettings>> variants;  // `pixab_cam@<name>`
};

// Batch sizes from a memory budget, for rows of `head_row_floats` floats (one masked activation tensor,
// K*h*w) through head and of `input_row_floats` floats (one masked image, C*H*W) through the whole network. A
// row is charged its input times a factor for the network's own intermediates (4 for a head, 32 for a whole
// CNN), and the sizes are clamped to [1, 4096] rows per head pass and [1, 256] images per full pass. Results
// do not depend on them; only speed and memory do.
struct PassBatchSizes {
  int head = 0, full = 0;
};
PassBatchSizes pass_batch_sizes_for_memory(std::int64_t memory_mb, std::int64_t head_row_floats,
                                           std::int64_t input_row_floats);

// Parses a box list entry "HxW" (e.g. "2x1"); ConfigError otherwise.
std::pair<int, int> parse_box_size(const std::string& text);

// Parses a variant "name: key=value key=value ..." (keys: boxes=1x1,2x2 padding= terms= score= strict=),
// starting from `base`. ConfigError naming the variant for anything malformed.
std::pair<std::string, PixabSettings> parse_pixab_variant(const std::string& text, const PixabSettings& base);

// The settings as a variant's "key=value ..." text, every key given: parse_pixab_variant("name: " + text, any
// base) gives them back.
std::string pixab_settings_text(const PixabSettings& settings);

// Applies one key of the [pixab] table (or of a variant) to settings; ConfigError for a bad key or value.
void set_pixab_key(PixabSettings& settings, const std::string& key, const std::string& value,
                   const std::string& where);

}  // namespace pixab
