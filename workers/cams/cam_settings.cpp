// Parsing of the CAM settings that come as text from the config (box sizes, Pixab variants).
#include "workers/cams/cam_settings.hpp"

#include <algorithm>
#include <sstream>

#include "io/error.hpp"

namespace pixab {

PassBatchSizes pass_batch_sizes_for_memory(std::int64_t memory_mb, std::int64_t head_row_floats,
                                           std::int64_t input_row_floats) {
  constexpr std::int64_t kHeadFactor = 4, kFullFactor = 32, kMaxHeadRows = 4096, kMaxFullRows = 256;
  const std::int64_t budget = memory_mb * 1024 * 1024;
  auto rows = [&](std::int64_t row_floats, std::int64_t factor, std::int64_t most) {
    const std::int64_t row_bytes = std::max<std::int64_t>(1, row_floats) * 4 * factor;
    return static_cast<int>(std::clamp<std::int64_t>(budget / row_bytes, 1, most));
  };
  return {rows(head_row_floats, kHeadFactor, kMaxHeadRows),
          rows(input_row_floats, kFullFactor, kMaxFullRows)};
}

std::pair<int, int> parse_box_size(const std::string& text) {
  const auto x = text.find('x');
  try {
    std::size_t used_h = 0, used_w = 0;
    if (x != std::string::npos) {
      const int h = std::stoi(text.substr(0, x), &used_h);
      const int w = std::stoi(text.substr(x + 1), &used_w);
      if (used_h == x && used_w == text.size() - x - 1 && h > 0 && w > 0) return {h, w};
    }
  } catch (const std::exception&) {
  }
  throw ConfigError("pixab box size '" + text + "': expected HxW with positive integers, e.g. 2x1");
}

std::string pixab_settings_text(const PixabSettings& s) {
  std::string boxes;
  for (const auto& [height, width] : s.boxes)
    boxes += (boxes.empty() ? "" : ",") + std::to_string(height) + "x" + std::to_string(width);
  const char* terms = s.terms == PixabSettings::Terms::kBoth       ? "both"
                      : s.terms == PixabSettings::Terms::kDeletion ? "deletion"
                                                                   : "preservation";
  return "boxes=" + boxes + " padding=" + (s.padding == PixabSettings::Padding::kFull ? "full" : "same") +
         " terms=" + terms + " score=" + (s.score == ScoreKind::kProbability ? "prob" : "logit") +
         " strict=" + (s.strict ? "true" : "false");
}

void set_pixab_key(PixabSettings& s, const std::string& key, const std::string& value,
                   const std::string& where) {
  auto bad = [&](const char* expected) {
    throw ConfigError(where + ": " + key + " = '" + value + "': expected " + expected);
  };
  if (key == "boxes") {
    s.boxes.clear();
    std::stringstream list(value);
    std::string item;
    while (std::getline(list, item, ',')) s.boxes.push_back(parse_box_size(item));
    if (s.boxes.empty()) bad("a list of box sizes such as 1x1,2x2");
  } else if (key == "padding") {
    if (value == "full")
      s.padding = PixabSettings::Padding::kFull;
    else if (value == "same")
      s.padding = PixabSettings::Padding::kSame;
    else
      bad("full or same");
  } else if (key == "terms") {
    if (value == "both")
      s.terms = PixabSettings::Terms::kBoth;
    else if (value == "deletion")
      s.terms = PixabSettings::Terms::kDeletion;
    else if (value == "preservation")
      s.terms = PixabSettings::Terms::kPreservation;
    else
      bad("deletion, preservation or both");
  } else if (key == "score") {
    if (value == "prob")
      s.score = ScoreKind::kProbability;
    else if (value == "logit")
      s.score = ScoreKind::kLogit;
    else
      bad("prob or logit");
  } else if (key == "strict") {
    if (value == "true")
      s.strict = true;
    else if (value == "false")
      s.strict = false;
    else
      bad("true or false");
  } else {
    throw ConfigError(where + ": unknown key '" + key + "' (keys: boxes, padding, terms, score, strict)");
  }
}

std::pair<std::string, PixabSettings> parse_pixab_variant(const std::string& text,
                                                          const PixabSettings& base) {
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const std::string where = "pixab variant '" + text + "'";
  if (colon == std::string::npos || name.empty() || name.find_first_of(" \t/@") != std::string::npos) {
    throw ConfigError(where + ": expected \"name: key=value ...\" with a name without spaces, '/' or '@'");
  }
  PixabSettings settings = base;
  std::stringstream words(text.substr(colon + 1));
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": '" + word + "' is not key=value");
    set_pixab_key(settings, word.substr(0, eq), word.substr(eq + 1), where);
  }
  return {name, settings};
}

}  // namespace pixab
