// Settings of the CAM methods (methods.md): batch sizes of the model passes, Ablation-CAM's score,
// Pixab-CAM's parameters and its named variants.
#pragma once

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

struct CamSettings {
  int head_batch_size = 512;  // rows of masked activations per head pass (Ablation-CAM, Pixab-CAM)
  int full_batch_size = 64;   // masked images per full forward pass (Score-CAM)
  ScoreKind ablation_score = ScoreKind::kLogit;
  PixabSettings pixab;                                          // the plain `pixab_cam`
  std::vector<std::pair<std::string, PixabSettings>> variants;  // `pixab_cam@<name>`
};

// Parses a box list entry "HxW" (e.g. "2x1"); ConfigError otherwise.
std::pair<int, int> parse_box_size(const std::string& text);

// Parses a variant "name: key=value key=value ..." (keys: boxes=1x1,2x2 padding= terms= score= strict=),
// starting from `base`. ConfigError naming the variant for anything malformed.
std::pair<std::string, PixabSettings> parse_pixab_variant(const std::string& text, const PixabSettings& base);

// Applies one key of the [pixab] table (or of a variant) to settings; ConfigError for a bad key or value.
void set_pixab_key(PixabSettings& settings, const std::string& key, const std::string& value,
                   const std::string& where);

}  // namespace pixab
