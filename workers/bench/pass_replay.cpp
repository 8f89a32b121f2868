// Pass plans of a CamBatch, their per-image counts and their timed replay (the limit of `pixab bench`).
#include "workers/bench/pass_replay.hpp"

#include <torch/autograd.h>

#include <algorithm>

#include "io/error.hpp"
#include "workers/cams/cam_math.hpp"

namespace pixab {

PassPlan batch_passes(const BatchNeeds& needs, int64_t images) {
  PassPlan plan{{PassKind::kFeatures, RowContent::kInputs, images, images},
                {needs.keeps_graph() ? PassKind::kHeadWithBackward : PassKind::kHead,
                 RowContent::kActivations, images, images}};
  const std::size_t gradients = needs.gradients.size();
  // The head pass with backward is the first backward; the Hessian-vector product adds two (one alone), the
  // combined logits' gradients one (none alone: it is then the first).
  std::size_t more_backward =
      (gradients > 1 ? gradients - 1 : 0) + (needs.hessian_vector_product ? (gradients > 0 ? 2 : 1) : 0);
  if (needs.combined_logit_gradients && (gradients > 0 || needs.hessian_vector_product)) ++more_backward;
  for (std::size_t i = 0; i < more_backward; ++i) {
    plan.push_back({PassKind::kBackward, RowContent::kActivations, images, images});
  }
  return plan;
}

PassCounts count_passes(const PassPlan& plan, int64_t images) {
  PassCounts counts;
  for (const PassStep& step : plan) {
    const double per_image = static_cast<double>(step.rows) / static_cast<double>(images);
    switch (step.kind) {
      case PassKind::kFeatures:
        counts.features += per_image;
        break;
      case PassKind::kHeadWithBackward:
        counts.backward += per_image;
        [[fallthrough]];
      case PassKind::kHead:
        counts.head += per_image;
        break;
      case PassKind::kForwardWithBackward:
        counts.backward += per_image;
        [[fallthrough]];
      case PassKind::kForward:
        counts.forward += per_image;
        break;
      case PassKind::kBackward:
        counts.backward += per_image;
        break;
    }
  }
  return counts;
}

namespace {

// Rows [first, first + count) of a step's input for one batch x (activations a), holding what the method's
// rows hold, built with plain tensor ops.
torch::Tensor step_rows(const PassStep& step, int64_t first, int64_t count, const torch::Tensor& x,
                        const torch::Tensor& a) {
  const auto rows = torch::arange(first, first + count, x.options().dtype(torch::kLong));
  switch (step.content) {
    case RowContent::kInputs:
      return x.narrow(0, first, count);
    case RowContent::kActivations:
      return a.narrow(0, first, count);
    case RowContent::kZeros:
      return torch::zeros_like((step.kind == PassKind::kForward ? x : a).narrow(0, 0, count));
    case RowContent::kChannelMasked: {
      const auto masks =
          minmax_normalise(upsample(a.flatten(0, 1).index_select(0, rows), x.size(2), x.size(3)));
      return x.index_select(0, rows.div(a.size(1), "floor")) * masks.unsqueeze(1);
    }
    case RowContent::kChannelAblated: {
      auto ablated = a.index_select(0, rows.div(a.size(1), "floor"));
      const auto zeroed = torch::arange(count, rows.options()) * a.size(1) + rows.remainder(a.size(1));
      ablated.flatten(0, 1).index_fill_(0, zeroed, 0);  // a view of `ablated`: fills it in place
      return ablated;
    }
    case RowContent::kPlacementKept:
    case RowContent::kPlacementRemoved: {
      const int64_t placements = step.placement_masks.size(0);
      auto masks = step.placement_masks.index_select(0, rows.remainder(placements));
      if (step.content == RowContent::kPlacementRemoved) masks = 1 - masks;
      return a.index_select(0, rows.div(placements, "floor")) * masks.unsqueeze(1);
    }
    case RowContent::kPixelsMasked: {
      const auto images = x.index_select(0, rows.remainder(x.size(0)));
      return images * (torch::rand_like(images.select(1, 0)) > 0.5).unsqueeze(1).to(x.scalar_type());
    }
  }
  throw Error("bench: unknown row content");
}

}  // namespace

double time_passes(const Model& model, const PassPlan& plan, const torch::Tensor& x) {
  const auto& device = model.device();
  torch::Tensor activations;
  double ms = 0;
  for (const PassStep& step : plan) {
    const bool reads_inputs_only = step.content == RowContent::kInputs || step.content == RowContent::kPixelsMasked;
    TORCH_CHECK(step.kind == PassKind::kFeatures || reads_inputs_only || activations.defined(),
                "bench: a plan reading activations starts with features");
    for (int64_t first = 0; first < step.rows; first += step.chunk) {
      const int64_t count = std::min(step.chunk, step.rows - first);
      torch::NoGradGuard no_grad;
      const auto input = step_rows(step, first, count, x, activations);
      switch (step.kind) {
        case PassKind::kFeatures:
          ms += elapsed_ms(device, [&] { activations = model.features(input); });
          break;
        case PassKind::kHead:
          ms += elapsed_ms(device, [&] { model.head(input); });
          break;
        case PassKind::kForward:
          ms += elapsed_ms(device, [&] { model.forward(input); });
          break;
        case PassKind::kHeadWithBackward:
        case PassKind::kForwardWithBackward:
        case PassKind::kBackward: {
          const auto tracked = input.detach().requires_grad_(true);
          torch::AutoGradMode enable_grad(true);
          // Class 0 for every row: any class costs the same backward pass.
          if (step.kind == PassKind::kForwardWithBackward) {
            ms += elapsed_ms(
                device, [&] { torch::autograd::grad({model.forward(tracked).select(1, 0).sum()}, {tracked}); });
          } else if (step.kind == PassKind::kHeadWithBackward) {
            ms += elapsed_ms(
                device, [&] { torch::autograd::grad({model.head(tracked).select(1, 0).sum()}, {tracked}); });
          } else {  // the head pass is the CamBatch's, timed in its own step: only the backward here
            const auto selected = model.head(tracked).select(1, 0).sum();
            ms += elapsed_ms(device, [&] { torch::autograd::grad({selected}, {tracked}); });
          }
          break;
        }
      }
    }
  }
  return ms;
}

}  // namespace pixab
