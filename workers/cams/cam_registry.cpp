// The shared per-batch state (features, logits, the one backward pass) and the method registry.
#include <torch/autograd.h>

#include "io/error.hpp"
#include "workers/cams/activation_cam.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/cams/grad_cam.hpp"

namespace pixab {

CamBatch::CamBatch(const Model& model, torch::Tensor inputs, bool need_gradients)
    : model_(model), inputs_(std::move(inputs)) {
  {
    torch::NoGradGuard no_grad;
    activations_ = model_.features(inputs_);
  }
  if (need_gradients) {
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
  gradients_ = torch::Tensor();
}

const torch::Tensor& CamBatch::gradients() {
  if (gradients_.defined()) return gradients_;
  TORCH_CHECK(tracked_logits_.defined(), "CamBatch built without gradients");
  TORCH_CHECK(targets_.defined(), "CamBatch: targets must be set before gradients");
  // Images are independent in eval mode, so the gradient of the sum of each image's target logit is every image's
  // own gradient: one backward pass for the batch.
  torch::AutoGradMode enable_grad(true);
  const auto selected = tracked_logits_.gather(1, targets_.unsqueeze(1)).sum();
  gradients_ = torch::autograd::grad({selected}, {tracked_activations_}, {}, /*retain_graph=*/true)[0].detach();
  return gradients_;
}

const std::vector<std::string>& implemented_cam_methods() {
  static const std::vector<std::string> ids{"activation_cam", "grad_cam"};
  return ids;
}

std::unique_ptr<CamMethod> make_cam_method(const std::string& id) {
  if (id == "activation_cam") return std::make_unique<ActivationCam>();
  if (id == "grad_cam") return std::make_unique<GradCam>();
  std::string known;
  for (const auto& name : implemented_cam_methods()) known += (known.empty() ? "" : ", ") + name;
  throw ConfigError("unknown CAM method '" + id + "' (implemented: " + known + ")");
}

}  // namespace pixab
