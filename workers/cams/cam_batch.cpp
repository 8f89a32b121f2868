// The shared per-batch state: features, logits, and the declared needs (backward passes, baselines) once
// each.
#include "workers/cams/cam_batch.hpp"

#include <torch/autograd.h>

#include <stdexcept>

#include "io/error.hpp"

namespace pixab {

BatchNeeds& BatchNeeds::merge(const BatchNeeds& other) {
  gradients.insert(other.gradients.begin(), other.gradients.end());
  hessian_vector_product = hessian_vector_product || other.hessian_vector_product;
  combined_logit_gradients = combined_logit_gradients || other.combined_logit_gradients;
  zero_activation_logits = zero_activation_logits || other.zero_activation_logits;
  zero_input_logits = zero_input_logits || other.zero_input_logits;
  return *this;
}

bool BatchNeeds::covers(const BatchNeeds& other) const {
  for (const ScoreKind score : other.gradients) {
    if (gradients.count(score) == 0) return false;
  }
  return (hessian_vector_product || !other.hessian_vector_product) &&
         (combined_logit_gradients || !other.combined_logit_gradients) &&
         (zero_activation_logits || !other.zero_activation_logits) &&
         (zero_input_logits || !other.zero_input_logits);
}

bool BatchNeeds::operator==(const BatchNeeds& other) const { return covers(other) && other.covers(*this); }

CamBatch::CamBatch(const Model& model, torch::Tensor inputs, BatchNeeds needs)
    : model_(model), needs_(std::move(needs)), inputs_(std::move(inputs)) {
  {
    torch::NoGradGuard no_grad;
    activations_ = model_.features(inputs_);
  }
  if (needs_.keeps_graph()) {
    torch::AutoGradMode enable_grad(true);
    tracked_activations_ = activations_.detach().requires_grad_(true);
    tracked_logits_ = model_.head(tracked_activations_);
    logits_ = tracked_logits_.detach();
  } else {
    torch::NoGradGuard no_grad;
    logits_ = model_.head(activations_);
  }
}

void CamBatch::set_targets(torch::Tensor targets) {
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == activations_.size(0), "one target per image expected");
  targets_ = targets.to(logits_.device(), torch::kLong);
  logit_gradients_ = probability_gradients_ = hessian_vector_product_ = torch::Tensor();
}

void CamBatch::set_item_ids(std::vector<std::string> ids) {
  if (!ids.empty() && static_cast<int64_t>(ids.size()) != activations_.size(0))
    throw std::logic_error("CamBatch: one item id per image expected");
  item_ids_ = std::move(ids);
}

const torch::Tensor& CamBatch::gradients(ScoreKind score) {
  torch::Tensor& cached = score == ScoreKind::kLogit ? logit_gradients_ : probability_gradients_;
  if (cached.defined()) return cached;
  if (needs_.gradients.count(score) == 0) {
    throw Error(std::string("CamBatch built without the gradients of the ") +
                (score == ScoreKind::kLogit ? "logit" : "probability") + " (BatchNeeds::gradients)");
  }
  TORCH_CHECK(targets_.defined(), "CamBatch: targets must be set before gradients");
  used_.gradients.insert(score);
  // Images are independent in eval mode, so the gradient of the sum of each image's target score is every
  // image's own gradient: one backward pass for the batch.
  torch::AutoGradMode enable_grad(true);
  const auto scores = score == ScoreKind::kLogit ? tracked_logits_ : torch::softmax(tracked_logits_, 1);
  const auto selected = scores.gather(1, targets_.unsqueeze(1)).sum();
  cached = torch::autograd::grad({selected}, {tracked_activations_}, {}, /*retain_graph=*/true)[0].detach();
  return cached;
}

torch::Tensor CamBatch::combined_logit_gradients(const torch::Tensor& coefficients) {
  if (!needs_.combined_logit_gradients) {
    throw Error("CamBatch built without the gradients of combined logits (BatchNeeds::combined_logit_gradients)");
  }
  if (coefficients.sizes() != logits_.sizes())
    throw std::logic_error("CamBatch: one coefficient per logit expected");
  used_.combined_logit_gradients = true;
  // The coefficients are constants: no gradient flows through them. Images are independent, so one backward
  // pass of the batch's sum gives every image's own gradient.
  torch::AutoGradMode enable_grad(true);
  const auto score = (tracked_logits_ * coefficients.detach().to(tracked_logits_.dtype())).sum();
  return torch::autograd::grad({score}, {tracked_activations_}, {}, /*retain_graph=*/true)[0].detach();
}

const torch::Tensor& CamBatch::hessian_vector_product() {
  if (hessian_vector_product_.defined()) return hessian_vector_product_;
  if (!needs_.hessian_vector_product) {
    throw Error("CamBatch built without the Hessian-vector product (BatchNeeds::hessian_vector_product)");
  }
  TORCH_CHECK(targets_.defined(), "CamBatch: targets must be set before the Hessian-vector product");
  used_.hessian_vector_product = true;
  // A first backward of its own that keeps its graph (create_graph), so that the plain gradients stay the
  // very backward call they were; then grad(g . A) = H A, H being symmetric. Images are independent, so the
  // sums over the batch keep every image's own product.
  torch::AutoGradMode enable_grad(true);
  const auto selected = tracked_logits_.gather(1, targets_.unsqueeze(1)).sum();
  const auto g = torch::autograd::grad({selected}, {tracked_activations_}, {}, /*retain_graph=*/true,
                                       /*create_graph=*/true)[0];
  // A head linear in A has no second derivative: g then carries no graph, and the product is zero.
  if (!g.requires_grad()) {
    hessian_vector_product_ = torch::zeros_like(activations_);
    return hessian_vector_product_;
  }
  const auto direction = tracked_activations_.detach();
  hessian_vector_product_ = torch::autograd::grad({(g * direction).sum()}, {tracked_activations_}, {},
                                                  /*retain_graph=*/true, /*create_graph=*/false,
                                                  /*allow_unused=*/true)[0];
  hessian_vector_product_ =
      hessian_vector_product_.defined() ? hessian_vector_product_.detach() : torch::zeros_like(activations_);
  return hessian_vector_product_;
}

const torch::Tensor& CamBatch::zero_activation_logits() {
  used_.zero_activation_logits = true;
  if (!zero_activation_logits_.defined()) {
    torch::NoGradGuard no_grad;
    zero_activation_logits_ = model_.head(torch::zeros_like(activations_.narrow(0, 0, 1)))[0];
  }
  return zero_activation_logits_;
}

const torch::Tensor& CamBatch::zero_input_logits() {
  used_.zero_input_logits = true;
  if (!zero_input_logits_.defined()) {
    torch::NoGradGuard no_grad;
    zero_input_logits_ = model_.forward(torch::zeros_like(inputs_.narrow(0, 0, 1)))[0];
  }
  return zero_input_logits_;
}

}  // namespace pixab
