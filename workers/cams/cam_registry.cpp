// The shared per-batch state (features, logits, the one backward pass) and the method registry.
#include <torch/autograd.h>

#include <algorithm>

#include "io/error.hpp"
#include "workers/cams/ablation_cam.hpp"
#include "workers/cams/activation_cam.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/cams/grad_cam.hpp"
#include "workers/cams/grad_cam_pp.hpp"
#include "workers/cams/pixab_cam.hpp"
#include "workers/cams/score_cam.hpp"
#include "workers/cams/xgrad_cam.hpp"

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
  // Images are independent in eval mode, so the gradient of the sum of each image's target logit is every
  // image's own gradient: one backward pass for the batch.
  torch::AutoGradMode enable_grad(true);
  const auto selected = tracked_logits_.gather(1, targets_.unsqueeze(1)).sum();
  gradients_ =
      torch::autograd::grad({selected}, {tracked_activations_}, {}, /*retain_graph=*/true)[0].detach();
  return gradients_;
}

const torch::Tensor& CamBatch::zero_activation_logits() {
  if (!zero_activation_logits_.defined()) {
    torch::NoGradGuard no_grad;
    zero_activation_logits_ = model_.head(torch::zeros_like(activations_.narrow(0, 0, 1)))[0];
  }
  return zero_activation_logits_;
}

const torch::Tensor& CamBatch::zero_input_logits() {
  if (!zero_input_logits_.defined()) {
    torch::NoGradGuard no_grad;
    zero_input_logits_ = model_.forward(torch::zeros_like(inputs_.narrow(0, 0, 1)))[0];
  }
  return zero_input_logits_;
}

const std::vector<std::string>& implemented_cam_methods() {
  static const std::vector<std::string> ids{"activation_cam", "grad_cam",     "grad_cam_pp", "xgrad_cam",
                                            "score_cam",      "ablation_cam", "pixab_cam"};
  return ids;
}

std::unique_ptr<CamMethod> make_cam_method(const std::string& id, const CamSettings& settings) {
  if (id == "activation_cam") return std::make_unique<ActivationCam>();
  if (id == "grad_cam") return std::make_unique<GradCam>();
  if (id == "grad_cam_pp") return std::make_unique<GradCamPP>();
  if (id == "xgrad_cam") return std::make_unique<XGradCam>();
  if (id == "score_cam") return std::make_unique<ScoreCam>(settings.full_batch_size);
  if (id == "ablation_cam")
    return std::make_unique<AblationCam>(settings.ablation_score, settings.head_batch_size);
  if (id == "pixab_cam") return std::make_unique<PixabCam>(id, settings.pixab, settings.head_batch_size);
  const std::string variant_prefix = "pixab_cam@";
  if (id.rfind(variant_prefix, 0) == 0) {
    const std::string name = id.substr(variant_prefix.size());
    for (const auto& [variant, pixab] : settings.variants) {
      if (variant == name) return std::make_unique<PixabCam>(id, pixab, settings.head_batch_size);
    }
    throw ConfigError("CAM method '" + id + "': no Pixab variant named '" + name + "' in [pixab] variants");
  }
  std::string known;
  for (const auto& name : implemented_cam_methods()) known += (known.empty() ? "" : ", ") + name;
  throw ConfigError("unknown CAM method '" + id + "' (implemented: " + known + ", pixab_cam@<variant>)");
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

bool any_needs_gradients(const std::vector<std::unique_ptr<CamMethod>>& methods) {
  return std::any_of(methods.begin(), methods.end(), [](const auto& m) { return m->needs_gradients(); });
}

}  // namespace pixab
