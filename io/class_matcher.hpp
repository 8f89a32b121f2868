// Class names of a dataset (VOC and COCO classes, ImageNet synsets, a list's labels) matched to the class
// indices of a model, once per run.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "io/box.hpp"
#include "io/model_meta.hpp"

namespace pixab {

struct AnnotatedObject {
  std::string class_name;  // as the dataset writes it
  Box box;                 // original image coordinates, pixel edges
  bool difficult = false;
  int model_class = -1;  // set by ClassMatcher::resolve; -1: not a class of the model
};

struct ItemAnnotation {
  std::string label;  // image-level class (ImageNet, list); empty when the dataset has none
  std::vector<AnnotatedObject> objects;
  int label_class = -1;  // set by ClassMatcher::resolve; -1: no label, or not a class of the model
};

class ClassMatcher {
 public:
  // model_classes: name -> model class index; dataset_classes: names the dataset itself defines, accepted
  // even when the model has no such class (VOC's classes with an ImageNet model); indexed_classes > 0 also
  // accepts "0" .. "indexed_classes - 1" as class indices (list datasets).
  ClassMatcher(std::unordered_map<std::string, int> model_classes,
               const std::vector<std::string>& dataset_classes, int indexed_classes = 0);
  // The usual matcher: the model's labels, then its wnids.
  static ClassMatcher by_model_names(const ModelMeta& meta, const std::vector<std::string>& dataset_classes,
                                     int indexed_classes = 0);

  // The model class of a name, or -1.
  int model_class(const std::string& name) const;
  // A class of the model or of the dataset.
  bool knows(const std::string& name) const;
  // Sets label_class and each object's model_class. ItemError (kBadAnnotation) naming `where` when the label
  // or an object names a class that neither the model nor the dataset knows.
  ItemAnnotation resolve(ItemAnnotation annotation, const std::string& where) const;

 private:
  std::unordered_map<std::string, int> model_classes_;
  std::unordered_set<std::string> dataset_classes_;
  int indexed_classes_ = 0;
};

}  // namespace pixab
