// The method registry: the list of implemented methods (one line each) and the lookups built on it.
#include <algorithm>

#include "io/error.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {

// The implemented methods, in the order the results file and report list them. Each method's own file defines
// `const CamMethodSpec& <id>_spec()`; adding a method is that file and one line here.
#define PIXAB_CAM_METHODS(METHOD) \
  METHOD(activation_cam)          \
  METHOD(grad_cam)                \
  METHOD(grad_cam_pp)             \
  METHOD(xgrad_cam)               \
  METHOD(score_cam)               \
  METHOD(ablation_cam)            \
  METHOD(pixab_cam)

#define PIXAB_DECLARE_SPEC(id) const CamMethodSpec& id##_spec();
PIXAB_CAM_METHODS(PIXAB_DECLARE_SPEC)
#undef PIXAB_DECLARE_SPEC

const std::vector<const CamMethodSpec*>& cam_method_specs() {
#define PIXAB_SPEC_ADDRESS(id) &id##_spec(),
  static const std::vector<const CamMethodSpec*> specs{PIXAB_CAM_METHODS(PIXAB_SPEC_ADDRESS)};
#undef PIXAB_SPEC_ADDRESS
  return specs;
}

const std::vector<std::string>& implemented_cam_methods() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const CamMethodSpec* spec : cam_method_specs()) out.push_back(spec->id);
    return out;
  }();
  return ids;
}

std::unique_ptr<CamMethod> make_cam_method(const std::string& id, const CamSettings& settings) {
  const std::size_t at = id.find('@');
  const std::string base = id.substr(0, at);
  for (const CamMethodSpec* spec : cam_method_specs()) {
    if (spec->id == base && (at == std::string::npos || spec->variants)) return spec->make(id, settings);
  }
  std::string known;
  for (const auto& name : implemented_cam_methods()) known += (known.empty() ? "" : ", ") + name;
  for (const CamMethodSpec* spec : cam_method_specs()) {
    if (spec->variants) known += ", " + spec->id + "@<variant>";
  }
  throw ConfigError("unknown CAM method '" + id + "' (implemented: " + known + ")");
}

std::vector<std::unique_ptr<CamMethod>> make_cam_methods(const std::vector<std::string>& ids,
                                                         const CamSettings& settings) {
  std::vector<std::unique_ptr<CamMethod>> methods;
  for (const auto& id : ids) {
    if (std::count(ids.begin(), ids.end(), id) > 1)
      throw ConfigError("methods: '" + id + "' is listed twice");
    methods.push_back(make_cam_method(id, settings));
  }
  return methods;
}

BatchNeeds merged_needs(const std::vector<std::unique_ptr<CamMethod>>& methods) {
  BatchNeeds needs;
  for (const auto& method : methods) needs.merge(method->spec().needs);
  return needs;
}

}  // namespace pixab
