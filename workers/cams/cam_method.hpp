// The interface every CAM method implements, and the per-batch state the methods share (one features pass,
// one backward pass), so that no method re-runs work another has done.
#pragma once

#include <torch/script.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/model.hpp"
#include "workers/cams/cam_settings.hpp"

namespace pixab {

// Everything computed once per batch of images and shared by all methods.
class CamBatch {
 public:
  // inputs: [B,C,H,W] in model-input space on the model's device. With need_gradients the logits come from a
  // head pass that keeps its graph, so the gradient methods' single backward pass reuses it.
  CamBatch(const Model& model, torch::Tensor inputs, bool need_gradients);

  const Model& model() const { return model_; }
  const torch::Tensor& inputs() const { return inputs_; }            // x      [B,C,H,W]
  const torch::Tensor& activations() const { return activations_; }  // A      [B,K,h,w], no grad
  const torch::Tensor& logits() const { return logits_; }            // z      [B,N], no grad
  const torch::Tensor& targets() const { return targets_; }          // c      [B] int64

  // Sets the target class per image; must be called before the methods run.
  void set_targets(torch::Tensor targets);

  // dz_c/dA for every image's own target, [B,K,h,w]: one backward pass for the whole batch, computed on first
  // use.
  const torch::Tensor& gradients();

  // head(0_A), the logits of an all-zero activation tensor, [N]: one head pass, computed on first use.
  const torch::Tensor& zero_activation_logits();
  // forward(0), the logits of the all-zero input in model-input space, [N]: one forward pass, on first use.
  const torch::Tensor& zero_input_logits();

 private:
  const Model& model_;
  torch::Tensor inputs_, activations_, logits_, targets_, gradients_;
  torch::Tensor tracked_activations_, tracked_logits_;  // the graph kept for the backward pass
  torch::Tensor zero_activation_logits_, zero_input_logits_;
};

// A method's output for a batch: maps L [B,h,w] in [0,1]; channel weights [B,K] where the method has them;
// warning flags [B] (ItemFlag bits) where it has any; named extra maps [B,h,w] (Pixab-CAM's D and R).
struct CamResult {
  torch::Tensor maps;
  torch::Tensor weights;
  torch::Tensor flags;
  std::map<std::string, torch::Tensor> extra_maps;
};

class CamMethod {
 public:
  virtual ~CamMethod() = default;
  virtual std::string id() const = 0;  // the identifier used in configs and results files
  virtual bool needs_gradients() const { return false; }
  virtual bool has_channel_weights() const { return true; }  // all but Pixab-CAM
  virtual bool has_pixab_maps() const { return false; }      // D and R
  virtual CamResult compute(CamBatch& batch) const = 0;
};

// The identifiers this build implements, in the order the results file and report list them.
const std::vector<std::string>& implemented_cam_methods();

// `id` is a method identifier or `pixab_cam@<name>` for a variant named in settings.variants. ConfigError
// naming the known methods for an unknown identifier.
std::unique_ptr<CamMethod> make_cam_method(const std::string& id, const CamSettings& settings = {});

// The methods of a list, in its order; ConfigError for an unknown id or one listed twice.
std::vector<std::unique_ptr<CamMethod>> make_cam_methods(const std::vector<std::string>& ids,
                                                         const CamSettings& settings = {});

// Whether any of the methods needs the shared backward pass.
bool any_needs_gradients(const std::vector<std::unique_ptr<CamMethod>>& methods);

}  // namespace pixab
