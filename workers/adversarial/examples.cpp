// AE1's two stages and AE2's per-patch attacks.
#include "workers/adversarial/examples.hpp"

#include <fmt/format.h>

namespace pixab {

Examples make_ae1(const Model& model, const torch::Tensor& image_levels, const torch::Tensor& masks,
                  const torch::Tensor& targets, const AttackSettings& settings) {
  const int64_t images = image_levels.size(0);
  const AttackOutcome stage1 = targeted_attack(model, torch::zeros_like(image_levels), masks, targets, settings);
  const torch::Tensor pasted = image_levels * (1 - masks) + stage1.levels * masks;
  const AttackOutcome pasted_scores = score_examples(model, pasted, targets, settings);
  const torch::Tensor targets_cpu = targets.cpu();

  Examples out;
  out.levels = pasted.clone();
  out.iterations = stage1.iterations;
  out.target_prob = pasted_scores.target_prob;
  out.second_stage.assign(static_cast<std::size_t>(images), false);
  out.failure.assign(static_cast<std::size_t>(images), "");
  std::vector<int64_t> broken;  // the pasted image's top-1 is not the target
  for (int64_t i = 0; i < images; ++i) {
    if (pasted_scores.top1[static_cast<std::size_t>(i)] != targets_cpu[i].item<int64_t>()) broken.push_back(i);
  }
  if (broken.empty()) return out;

  const torch::Tensor index = torch::tensor(broken, torch::kLong).to(pasted.device());
  const AttackOutcome stage2 = targeted_attack(model, pasted.index_select(0, index), masks.index_select(0, index),
                                               targets.index_select(0, index), settings);
  out.levels.index_copy_(0, index, stage2.levels);
  for (std::size_t r = 0; r < broken.size(); ++r) {
    const auto b = static_cast<std::size_t>(broken[r]);
    out.second_stage[b] = true;
    out.iterations[b] += stage2.iterations[r];
    out.target_prob[b] = stage2.target_prob[r];
    // Accepted as the paste is: when the image's top-1 is the target.
    if (stage2.top1[r] != targets_cpu[broken[r]].item<int64_t>()) {
      out.failure[b] = fmt::format(
          "the AE1's top-1 is {}, not the target {}: stage 1 took {} steps on the zero canvas (p_t = {:.4f}{}), "
          "stage 2 {} more in the image (p_t = {:.4f})",
          stage2.top1[r], targets_cpu[broken[r]].item<int64_t>(), stage1.iterations[b], stage1.target_prob[b],
          stage1.reached[b] ? "" : ", not reached", stage2.iterations[r], stage2.target_prob[r]);
    }
  }
  return out;
}

Examples make_ae2_patches(const Model& model, const torch::Tensor& masks, const torch::Tensor& targets,
                          const AttackSettings& settings) {
  const int64_t patches = masks.size(0);
  const auto& meta = model.meta();
  const torch::Tensor canvases = torch::zeros({patches, meta.channels, masks.size(2), masks.size(3)},
                                              masks.options().dtype(torch::kFloat));
  const AttackOutcome attack = targeted_attack(model, canvases, masks, targets, settings);
  const torch::Tensor targets_cpu = targets.cpu();
  Examples out;
  out.levels = attack.levels;
  out.iterations = attack.iterations;
  out.target_prob = attack.target_prob;
  out.second_stage.assign(static_cast<std::size_t>(patches), false);
  for (int64_t i = 0; i < patches; ++i) {
    const auto b = static_cast<std::size_t>(i);
    out.failure.push_back(attack.reached[b] ? ""
                                            : fmt::format("patch {} of {} alone did not reach class {} with p >= {} "
                                                          "in {} steps (p_t = {:.4f}, top-1 {})",
                                                          i, patches, targets_cpu[i].item<int64_t>(),
                                                          settings.confidence, attack.iterations[b],
                                                          attack.target_prob[b], attack.top1[b]));
  }
  return out;
}

torch::Tensor combine_canvases(const torch::Tensor& canvases) { return canvases.sum(0); }

}  // namespace pixab
