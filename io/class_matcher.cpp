// Matching dataset class names to model classes, and the one rule for unknown classes: a name that neither
// the model nor the dataset defines is a typo or a foreign annotation, so its item is a bad annotation.
#include "io/class_matcher.hpp"

#include <charconv>
#include <utility>

#include "io/item_status.hpp"

namespace pixab {

ClassMatcher::ClassMatcher(std::unordered_map<std::string, int> model_classes,
                           const std::vector<std::string>& dataset_classes, int indexed_classes)
    : model_classes_(std::move(model_classes)),
      dataset_classes_(dataset_classes.begin(), dataset_classes.end()),
      indexed_classes_(indexed_classes) {}

ClassMatcher ClassMatcher::by_model_names(const ModelMeta& meta,
                                          const std::vector<std::string>& dataset_classes,
                                          int indexed_classes) {
  std::unordered_map<std::string, int> model_classes;
  // emplace keeps the first index of a repeated name: labels win over wnids, as in ModelMeta::class_index.
  for (const auto* names : {&meta.labels, &meta.wnids}) {
    for (std::size_t i = 0; i < names->size(); ++i) model_classes.emplace((*names)[i], static_cast<int>(i));
  }
  return ClassMatcher(std::move(model_classes), dataset_classes, indexed_classes);
}

int ClassMatcher::model_class(const std::string& name) const {
  const auto found = model_classes_.find(name);
  if (found != model_classes_.end()) return found->second;
  if (indexed_classes_ > 0 && !name.empty()) {
    int index = -1;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (error == std::errc() && end == name.data() + name.size() && index >= 0 && index < indexed_classes_)
      return index;
  }
  return -1;
}

bool ClassMatcher::knows(const std::string& name) const {
  return model_class(name) >= 0 || dataset_classes_.count(name) > 0;
}

ItemAnnotation ClassMatcher::resolve(ItemAnnotation annotation, const std::string& where) const {
  const auto check = [&](const std::string& name, const std::string& what) {
    if (!knows(name)) {
      throw ItemError(ItemStatus::kBadAnnotation,
                      where + ": " + what + " names class '" + name +
                          "', which is neither a class of the model nor of the dataset");
    }
    return model_class(name);
  };
  if (!annotation.label.empty()) annotation.label_class = check(annotation.label, "the label");
  for (std::size_t i = 0; i < annotation.objects.size(); ++i) {
    AnnotatedObject& object = annotation.objects[i];
    object.model_class = check(object.class_name, "object " + std::to_string(i + 1));
  }
  return annotation;
}

}  // namespace pixab
