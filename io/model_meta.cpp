// Parsing, validation and serialisation of a model's pixab.json (docs/model-contract.md).
#include "io/model_meta.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "io/error.hpp"

namespace pixab {

using nlohmann::json;

std::string ModelMeta::class_name(int c) const {
  if (c >= 0 && c < static_cast<int>(labels.size())) return labels[c];
  return std::to_string(c);
}

int ModelMeta::resolve_class(const std::string& text) const {
  const int by_name = class_index(text);
  if (by_name >= 0) return by_name;
  std::size_t used = 0;
  int index = -1;
  try {
    index = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == text.size() && index >= 0 && index < num_classes) return index;
  // A long label list (ImageNet's thousand) would drown the message; short ones help the user pick.
  const std::string known = !labels.empty() && labels.size() <= 20
                                ? fmt::format(" or a label: {}", fmt::join(labels, ", "))
                                : std::string(labels.empty() ? "" : " or a label of the model");
  throw ConfigError(fmt::format("target '{}': not a class of model {} (expected a class index 0..{}{})", text, name,
                                num_classes - 1, known));
}

int ModelMeta::class_index(const std::string& name) const {
  for (const auto* names : {&labels, &wnids}) {
    for (std::size_t i = 0; i < names->size(); ++i) {
      if ((*names)[i] == name) return static_cast<int>(i);
    }
  }
  return -1;
}

namespace {

// Every validation error names the model file and the key, so that a user can fix the export script.
[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw ModelError("model " + where + ": pixab.json: " + what);
}

const json& required(const json& doc, const char* key, const std::string& where) {
  if (!doc.contains(key)) fail(where, std::string("missing required key '") + key + "'");
  return doc.at(key);
}

int positive_int(const json& value, const char* key, const std::string& where) {
  if (!value.is_number_integer() || value.get<long long>() <= 0) {
    fail(where, std::string("'") + key + "' must be a positive integer, got " + value.dump());
  }
  return value.get<int>();
}

std::vector<double> number_list(const json& value, const char* key, std::size_t expected,
                                const std::string& where) {
  if (!value.is_array() || value.size() != expected) {
    fail(where, std::string("'") + key + "' must be a list of " + std::to_string(expected) +
                    " numbers, got " + value.dump());
  }
  std::vector<double> out;
  for (const auto& v : value) {
    if (!v.is_number()) fail(where, std::string("'") + key + "' must hold numbers, got " + v.dump());
    out.push_back(v.get<double>());
  }
  return out;
}

std::vector<std::string> string_list(const json& doc, const char* key, std::size_t expected,
                                     const std::string& where) {
  if (!doc.contains(key)) return {};
  const json& value = doc.at(key);
  if (!value.is_array() || value.size() != expected) {
    fail(where, std::string("'") + key + "' must be a list of num_classes (" + std::to_string(expected) +
                    ") strings, got " +
                    (value.is_array() ? std::to_string(value.size()) + " entries" : value.dump()));
  }
  std::vector<std::string> out;
  for (const auto& v : value) {
    if (!v.is_string()) fail(where, std::string("'") + key + "' must hold strings, got " + v.dump());
    out.push_back(v.get<std::string>());
  }
  return out;
}

void parse_resize(const json& value, ModelMeta& meta, const std::string& where) {
  if (!value.is_object() || !value.contains("mode") || !value.at("mode").is_string()) {
    fail(where, "'resize' must be an object with a 'mode', got " + value.dump());
  }
  const std::string mode = value.at("mode").get<std::string>();
  if (mode == "stretch") {
    meta.resize_mode = ResizeMode::kStretch;
  } else if (mode == "resize_then_center_crop") {
    meta.resize_mode = ResizeMode::kResizeThenCenterCrop;
    meta.resize_to = positive_int(required(value, "resize_to", where), "resize.resize_to", where);
    // The shorter side becomes resize_to, so the crop fits only when resize_to covers both input sides.
    if (meta.resize_to < std::max(meta.input_height, meta.input_width)) {
      fail(where, "'resize.resize_to' (" + std::to_string(meta.resize_to) +
                      ") is smaller than the input size, so the centre crop cannot fit");
    }
  } else {
    fail(where, "'resize.mode' must be \"stretch\" or \"resize_then_center_crop\", got \"" + mode + "\"");
  }
}

}  // namespace

ModelMeta parse_model_meta(const std::string& json_text, const std::string& where) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    fail(where, std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) fail(where, "must be a JSON object");

  ModelMeta meta;
  meta.json_text = json_text;
  const json& name = required(doc, "name", where);
  if (!name.is_string() || name.get<std::string>().empty()) fail(where, "'name' must be a non-empty string");
  meta.name = name.get<std::string>();

  const json& size = required(doc, "input_size", where);
  if (!size.is_array() || size.size() != 2)
    fail(where, "'input_size' must be [height, width], got " + size.dump());
  meta.input_height = positive_int(size[0], "input_size[0]", where);
  meta.input_width = positive_int(size[1], "input_size[1]", where);
  meta.channels = positive_int(required(doc, "channels", where), "channels", where);
  meta.mean = number_list(required(doc, "mean", where), "mean", meta.channels, where);
  meta.std = number_list(required(doc, "std", where), "std", meta.channels, where);
  for (double s : meta.std) {
    if (!(s > 0)) fail(where, "'std' values must be positive");
  }
  parse_resize(required(doc, "resize", where), meta, where);
  meta.num_classes = positive_int(required(doc, "num_classes", where), "num_classes", where);
  meta.labels = string_list(doc, "labels", meta.num_classes, where);
  meta.wnids = string_list(doc, "wnids", meta.num_classes, where);
  if (doc.contains("target_layer")) {
    if (!doc.at("target_layer").is_string()) fail(where, "'target_layer' must be a string");
    meta.target_layer = doc.at("target_layer").get<std::string>();
  }
  return meta;
}

std::string model_meta_to_json(const ModelMeta& meta, const std::string& extra_json_object) {
  json doc = json::parse(extra_json_object);
  doc["name"] = meta.name;
  doc["input_size"] = {meta.input_height, meta.input_width};
  doc["channels"] = meta.channels;
  doc["mean"] = meta.mean;
  doc["std"] = meta.std;
  if (meta.resize_mode == ResizeMode::kStretch) {
    doc["resize"] = {{"mode", "stretch"}};
  } else {
    doc["resize"] = {{"mode", "resize_then_center_crop"}, {"resize_to", meta.resize_to}};
  }
  doc["num_classes"] = meta.num_classes;
  if (!meta.labels.empty()) doc["labels"] = meta.labels;
  if (!meta.wnids.empty()) doc["wnids"] = meta.wnids;
  if (!meta.target_layer.empty()) doc["target_layer"] = meta.target_layer;
  return doc.dump(2);
}

}  // namespace pixab
