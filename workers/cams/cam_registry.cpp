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
  METHOD(pixab_cam)               \
  METHOD(hires_cam)               \
  METHOD(grad_cam_elementwise)    \
  METHOD(layer_cam)               \
  METHOD(shapley_cam)             \
  METHOD(finer_cam)               \
  METHOD(eigen_cam)               \
  METHOD(eigen_grad_cam)          \
  METHOD(fem)                     \
  METHOD(random_cam)

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

const CamMethodSpec* find_cam_method_spec(const std::string& id) {
  const std::size_t at = id.find('@');
  const std::string base = id.substr(0, at);
  for (const CamMethodSpec* spec : cam_method_specs()) {
    if (spec->id == base && (at == std::string::npos || spec->variants)) return spec;
  }
  return nullptr;
}

std::unique_ptr<CamMethod> make_cam_method(const std::string& id, const CamSettings& settings) {
  if (const CamMethodSpec* spec = find_cam_method_spec(id)) return spec->make(id, settings);
  std::string known;
  for (const auto& name : implemented_cam_methods()) known += (known.empty() ? "" : ", ") + name;
  for (const CamMethodSpec* spec : cam_method_specs()) {
    if (spec->variants) known += ", " + spec->id + "@<variant>";
  }
  std::string groups;
  for (const auto& group : cam_method_groups()) groups += (groups.empty() ? "" : ", ") + group.first;
  throw ConfigError("unknown CAM method '" + id + "' (implemented: " + known + "; groups: " + groups + ")");
}

const std::vector<std::pair<std::string, std::string>>& cam_method_groups() {
  static const std::vector<std::pair<std::string, std::string>> groups{
      {"all", "the paper's seven methods and the Pixab variants (the default)"},
      {"every", "every implemented method and the Pixab variants"},
      {"extra", "the methods beyond the paper"}};
  return groups;
}

namespace {

// The members of a group, in registry order; nothing for a name that is no group.
std::vector<std::string> group_members(const std::string& group, const CamSettings& settings) {
  std::vector<std::string> members;
  for (const CamMethodSpec* spec : cam_method_specs()) {
    const bool member = group == "every" || (group == "all" && spec->from_paper) ||
                        (group == "extra" && !spec->from_paper);
    if (!member) continue;
    members.push_back(spec->id);
    if (spec->variants) {  // settings.variants are the variants of the one method that has them
      for (const auto& variant : settings.variants) members.push_back(spec->id + "@" + variant.first);
    }
  }
  return members;
}

}  // namespace

std::vector<std::string> resolve_cam_method_names(const std::vector<std::string>& names,
                                                  const CamSettings& settings) {
  if (names.empty()) return group_members("all", settings);
  std::vector<std::string> resolved;
  const auto add = [&resolved](const std::string& id) {
    if (std::find(resolved.begin(), resolved.end(), id) == resolved.end()) resolved.push_back(id);
  };
  for (const auto& name : names) {
    if (std::count(names.begin(), names.end(), name) > 1)
      throw ConfigError("methods: '" + name + "' is listed twice");
    const bool group = std::any_of(cam_method_groups().begin(), cam_method_groups().end(),
                                   [&](const auto& g) { return g.first == name; });
    if (!group) {
      make_cam_method(name, settings);  // a ConfigError naming the known methods for an unknown one
      add(name);
    }
    for (const auto& id : group_members(name, settings)) add(id);
  }
  return resolved;
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
