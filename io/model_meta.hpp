// The model's metadata, `pixab.json` inside the TorchScript archive (docs/model-contract.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pixab {

enum class ResizeMode { kStretch, kResizeThenCenterCrop };

struct ModelMeta {
  std::string name;
  int input_height = 0;
  int input_width = 0;
  int channels = 3;
  std::vector<double> mean;
  std::vector<double> std;
  ResizeMode resize_mode = ResizeMode::kStretch;
  int resize_to = 0;  // shorter side before the centre crop (kResizeThenCenterCrop only)
  int num_classes = 0;
  std::vector<std::string> labels;  // empty or num_classes names
  std::vector<std::string> wnids;   // empty or num_classes ImageNet synset ids
  std::string target_layer;
  std::string json_text;  // the file as stored, for provenance

  // Name of class c: its label, or its index when the model has no labels.
  std::string class_name(int c) const;
  // Index of a class name among the labels (or wnids), or -1.
  int class_index(const std::string& name) const;
  // A class given by name (label or wnid) or by index; ConfigError naming the model when it has no such class.
  int resolve_class(const std::string& text) const;
};

// Parses and validates pixab.json; `where` names the model file in every error (ModelError).
ModelMeta parse_model_meta(const std::string& json_text, const std::string& where);

// Serialises the metadata (plus any extra keys, e.g. the demo model's test accuracy, given as a JSON object
// text).
std::string model_meta_to_json(const ModelMeta& meta, const std::string& extra_json_object = "{}");

}  // namespace pixab
