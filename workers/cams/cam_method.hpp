// The interface every CAM method implements and the registry that lists them: one declarative entry per
// method (what it needs from the shared CamBatch, what it outputs, the model passes it makes, how it is
// made), from which configs, the results file, the item processor and `pixab bench` learn about it.
#pragma once

#include <torch/script.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/model.hpp"
#include "workers/cams/cam_batch.hpp"
#include "workers/cams/cam_settings.hpp"
#include "workers/cams/pass_plan.hpp"

namespace pixab {

// A method's output for a batch: maps L [B,h,w] in [0,1]; channel weights [B,K] where the method has them;
// warning flags [B] (CamFlag bits) where it has any; named extra maps [B,h,w] (Pixab-CAM's D and R).
struct CamResult {
  torch::Tensor maps;
  torch::Tensor weights;
  torch::Tensor flags;
  std::map<std::string, torch::Tensor> extra_maps;
};

class CamMethod;
struct CamMethodSpec;

// The model passes a method makes per batch of `images` images beyond the CamBatch's features and logits,
// for the method `id` (its spec's id, or a variant of it) under `settings` on `model`.
using PassPlanFn = std::function<PassPlan(const std::string& id, const CamSettings& settings,
                                          const Model& model, int64_t images)>;
// Makes the method `id` (the spec's id, or `<id>@<variant>` where the spec has variants); ConfigError for an
// unknown variant.
using CamFactoryFn =
    std::function<std::unique_ptr<CamMethod>(const std::string& id, const CamSettings& settings)>;

// One registry entry: everything about a method that is not its arithmetic.
struct CamMethodSpec {
  std::string id;     // the identifier used in configs and results files
  std::string title;  // for people: the paper's name and equation, or the method's source
  bool from_paper = false;  // one of the Pixab-CAM paper's seven: in the "all" group, the default
  BatchNeeds needs;   // what compute() reads from the CamBatch beyond A, z and x (under any settings)
  bool channel_weights = true;          // CamResult::weights, stored as weights/<id>
  std::vector<std::string> extra_maps;  // names of CamResult::extra_maps, stored as pixab/<id>/<name>
  bool variants = false;                // `<id>@<name>` names a variant from the settings
  std::vector<std::string> settings;    // the config keys it reads (docs), e.g. "ablation.score"
  // None by default: the methods that only read the CamBatch (gradients included: bench counts the backward
  // passes from `needs`).
  PassPlanFn passes = [](const std::string&, const CamSettings&, const Model&, int64_t) {
    return PassPlan{};
  };
  CamFactoryFn make;
};

class CamMethod {
 public:
  virtual ~CamMethod() = default;
  virtual std::string id() const { return spec().id; }  // the spec's id, or a variant's `<id>@<name>`
  virtual const CamMethodSpec& spec() const = 0;
  virtual CamResult compute(CamBatch& batch) const = 0;
};

// Every implemented method's entry, in the order the results file and report list them.
const std::vector<const CamMethodSpec*>& cam_method_specs();

// The identifiers this build implements, in the same order.
const std::vector<std::string>& implemented_cam_methods();

// The registry entry of `id` (a method identifier, or `<id>@<name>` of a method that has variants); nullptr
// for an unknown one.
const CamMethodSpec* find_cam_method_spec(const std::string& id);

// `id` is a method identifier or `<id>@<name>` for a variant of a method that has them (pixab_cam@<name>,
// named in settings.variants). ConfigError naming the known methods for an unknown identifier.
std::unique_ptr<CamMethod> make_cam_method(const std::string& id, const CamSettings& settings = {});

// The groups a methods list may name besides method ids, with what each holds (for help texts and docs):
// "all" (the paper's seven and the configured Pixab variants: the default), "every" (every implemented
// method and the variants), "extra" (the methods beyond the paper).
const std::vector<std::pair<std::string, std::string>>& cam_method_groups();

// A methods list with its groups replaced by their methods in registry order (variants after pixab_cam's
// group members, in settings order); an empty list is "all". A method that a group already named is kept once,
// at its first place; a name listed twice is a ConfigError, as is an unknown one.
std::vector<std::string> resolve_cam_method_names(const std::vector<std::string>& names,
                                                  const CamSettings& settings = {});

// The methods of a list, in its order; ConfigError for an unknown id or one listed twice.
std::vector<std::unique_ptr<CamMethod>> make_cam_methods(const std::vector<std::string>& ids,
                                                         const CamSettings& settings = {});

// The union of the methods' needs: what a CamBatch running them all must provide.
BatchNeeds merged_needs(const std::vector<std::unique_ptr<CamMethod>>& methods);

}  // namespace pixab
