// The interface every CAM method implements, and the per-batch state the methods share (one features pass, one
// backward pass), so that no method re-runs work another has done.
#pragma once

#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "io/model.hpp"

namespace pixab {

// Everything computed once per batch of images and shared by all methods.
class CamBatch {
 public:
  // inputs: [B,C,H,W] in model-input space on the model's device. With need_gradients the logits come from a head
  // pass that keeps its graph, so the gradient methods' single backward pass reuses it.
  CamBatch(const Model& model, torch::Tensor inputs, bool need_gradients);

  const Model& model() const { return model_; }
  const torch::Tensor& inputs() const { return inputs_; }            // x      [B,C,H,W]
  const torch::Tensor& activations() const { return activations_; }  // A      [B,K,h,w], no grad
  const torch::Tensor& logits() const { return logits_; }            // z      [B,N], no grad
  const torch::Tensor& targets() const { return targets_; }          // c      [B] int64

  // Sets the target class per image; must be called before the methods run.
  void set_targets(torch::Tensor targets);

  // dz_c/dA for every image's own target, [B,K,h,w]: one backward pass for the whole batch, computed on first use.
  const torch::Tensor& gradients();

 private:
  const Model& model_;
  torch::Tensor inputs_, activations_, logits_, targets_, gradients_;
  torch::Tensor tracked_activations_, tracked_logits_;  // the graph kept for the backward pass
};

// A method's output for a batch: maps L [B,h,w] in [0,1]; channel weights [B,K] where the method has them.
struct CamResult {
  torch::Tensor maps;
  torch::Tensor weights;
};

class CamMethod {
 public:
  virtual ~CamMethod() = default;
  virtual std::string id() const = 0;  // the identifier used in configs and results files
  virtual bool needs_gradients() const { return false; }
  virtual CamResult compute(CamBatch& batch) const = 0;
};

// The identifiers this build implements, in the order the results file and report list them.
const std::vector<std::string>& implemented_cam_methods();

// ConfigError naming the known methods for an unknown identifier.
std::unique_ptr<CamMethod> make_cam_method(const std::string& id);

}  // namespace pixab
