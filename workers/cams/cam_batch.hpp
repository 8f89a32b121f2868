// The per-batch state the CAM methods share: one features pass, the logits, and whatever else the batch's
// methods declared they need (gradients of a target score, a Hessian-vector product, the zero baselines),
// each computed once, on first use.
#pragma once

#include <torch/script.h>

#include <set>
#include <string>
#include <vector>

#include "io/model.hpp"
#include "workers/cams/cam_settings.hpp"

namespace pixab {

// What a method reads from a CamBatch beyond A, z and x. The batch's needs are the union over its methods
// (merge); a gradient or the Hessian-vector product must be declared when the batch is built, because only
// then does the head pass that gives the logits keep its graph.
struct BatchNeeds {
  std::set<ScoreKind> gradients;        // d score_c / dA per target score kind
  bool hessian_vector_product = false;  // (d^2 z_c / dA^2) . A
  bool combined_logit_gradients = false;  // d (sum_n u_n z_n) / dA for coefficients u a method chooses
  bool zero_activation_logits = false;  // head(0_A)
  bool zero_input_logits = false;       // forward(0)

  // dz_c/dA only: what the gradient methods of methods.md read.
  static BatchNeeds logit_gradients() { return BatchNeeds{{ScoreKind::kLogit}}; }
  // Whether the head pass keeps its graph for a backward pass.
  bool keeps_graph() const { return !gradients.empty() || hessian_vector_product || combined_logit_gradients; }
  BatchNeeds& merge(const BatchNeeds& other);
  // Whether every need of `other` is one of these.
  bool covers(const BatchNeeds& other) const;
  bool operator==(const BatchNeeds& other) const;
};

// Everything computed once per batch of images and shared by all methods.
class CamBatch {
 public:
  // inputs: [B,C,H,W] in model-input space on the model's device. When the needs keep the graph, the logits
  // come from a head pass that keeps it, so the backward passes of the gradient methods reuse it.
  CamBatch(const Model& model, torch::Tensor inputs, BatchNeeds needs);

  const Model& model() const { return model_; }
  const torch::Tensor& inputs() const { return inputs_; }            // x      [B,C,H,W]
  const torch::Tensor& activations() const { return activations_; }  // A      [B,K,h,w], no grad
  const torch::Tensor& logits() const { return logits_; }            // z      [B,N], no grad
  const torch::Tensor& targets() const { return targets_; }          // c      [B] int64
  const BatchNeeds& needs() const { return needs_; }
  // The needs read so far (gradients, products and baselines asked for): a method is held to its declaration
  // by comparing them.
  const BatchNeeds& used() const { return used_; }

  // Sets the target class per image; must be called before the methods run.
  void set_targets(torch::Tensor targets);
  // The ids of the batch's items, one per image (the results file's item ids): what methods with seeded
  // draws (Random-CAM) seed from, so that a draw depends on the item and never on the batch or the rank.
  // An empty list: none (a method that needs them refuses the batch).
  void set_item_ids(std::vector<std::string> ids);
  // Empty when they were not set.
  const std::vector<std::string>& item_ids() const { return item_ids_; }

  // d score_c / dA for every image's own target, [B,K,h,w], no grad: one backward pass for the whole batch
  // per score kind, computed on first use. The score must be among the declared needs.
  const torch::Tensor& gradients(ScoreKind score = ScoreKind::kLogit);

  // d (sum_n coefficients[b,n] z[b,n]) / dA for every image b, [B,K,h,w], no grad: the gradient of a score
  // that is a linear combination of the logits with constant coefficients [B,N] (Finer-CAM's contrast). One
  // backward pass per call, never cached; must be declared (combined_logit_gradients).
  torch::Tensor combined_logit_gradients(const torch::Tensor& coefficients);

  // (d^2 z_c / dA^2) . A per image, [B,K,h,w], no grad: the Hessian of the target logit with respect to A
  // applied in the direction A, by a second backward pass through a first one that keeps its own graph.
  // Computed on first use; must be declared.
  const torch::Tensor& hessian_vector_product();

  // head(0_A), the logits of an all-zero activation tensor, [N]: one head pass, computed on first use.
  const torch::Tensor& zero_activation_logits();
  // forward(0), the logits of the all-zero input in model-input space, [N]: one forward pass, on first use.
  // Baselines need no graph: they are computed even where undeclared (the faithfulness metrics read x_b),
  // and used() reports them.
  const torch::Tensor& zero_input_logits();

 private:
  const Model& model_;
  BatchNeeds needs_, used_;
  torch::Tensor inputs_, activations_, logits_, targets_;
  std::vector<std::string> item_ids_;
  torch::Tensor logit_gradients_, probability_gradients_, hessian_vector_product_;
  torch::Tensor tracked_activations_, tracked_logits_;  // the graph kept for the backward passes
  torch::Tensor zero_activation_logits_, zero_input_logits_;
};

}  // namespace pixab
