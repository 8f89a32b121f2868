// The iterated targeted FGSM on 8-bit levels.
#include "workers/adversarial/attack.hpp"

#include <torch/autograd.h>

#include "workers/preprocess.hpp"

namespace pixab {

namespace {

// The stopping test's view of examples: top-1, p_t and whether the target is reached; host copies.
struct Scores {
  torch::Tensor logits;
  std::vector<std::int64_t> top1;
  std::vector<float> target_prob;
  std::vector<bool> reached;
};

Scores score(const Model& model, const torch::Tensor& levels, const torch::Tensor& targets,
             const AttackSettings& settings) {
  Scores out;
  out.logits = model.forward(levels_to_model_input(levels, model.meta()));
  const torch::Tensor probs = torch::softmax(out.logits.detach(), 1);
  const torch::Tensor top1 = probs.argmax(1).cpu();
  const torch::Tensor p_t = probs.gather(1, targets.unsqueeze(1)).squeeze(1).to(torch::kCPU, torch::kFloat);
  const torch::Tensor t = targets.cpu();
  for (int64_t i = 0; i < top1.size(0); ++i) {
    out.top1.push_back(top1[i].item<int64_t>());
    out.target_prob.push_back(p_t[i].item<float>());
    out.reached.push_back(out.top1.back() == t[i].item<int64_t>() &&
                          out.target_prob.back() >= settings.confidence);
  }
  return out;
}

}  // namespace

AttackOutcome score_examples(const Model& model, const torch::Tensor& levels, const torch::Tensor& targets,
                             const AttackSettings& settings) {
  torch::NoGradGuard no_grad;
  Scores scores = score(model, levels, targets, settings);
  return {levels, std::vector<int>(scores.top1.size(), 0), std::move(scores.target_prob), std::move(scores.top1),
          std::move(scores.reached)};
}

AttackOutcome targeted_attack(const Model& model, torch::Tensor levels, const torch::Tensor& masks,
                              const torch::Tensor& targets, const AttackSettings& settings) {
  const int64_t examples = levels.size(0);
  AttackOutcome out;
  out.levels = levels.to(torch::kFloat).clone();
  out.iterations.assign(static_cast<std::size_t>(examples), 0);
  out.target_prob.assign(static_cast<std::size_t>(examples), 0.0f);
  out.top1.assign(static_cast<std::size_t>(examples), -1);
  out.reached.assign(static_cast<std::size_t>(examples), false);

  std::vector<int64_t> running(static_cast<std::size_t>(examples));
  for (int64_t i = 0; i < examples; ++i) running[static_cast<std::size_t>(i)] = i;
  while (!running.empty()) {
    const torch::Tensor index = torch::tensor(running, torch::kLong).to(out.levels.device());
    const torch::Tensor current = out.levels.index_select(0, index).requires_grad_();
    const torch::Tensor running_targets = targets.index_select(0, index);
    const Scores scores = score(model, current, running_targets, settings);

    // Record where every running example stands; those reached or out of steps stop here.
    std::vector<int64_t> stepping, stepping_rows;
    for (std::size_t r = 0; r < running.size(); ++r) {
      const auto i = static_cast<std::size_t>(running[r]);
      out.top1[i] = scores.top1[r];
      out.target_prob[i] = scores.target_prob[r];
      out.reached[i] = scores.reached[r];
      if (!scores.reached[r] && out.iterations[i] < settings.max_iters) {
        stepping.push_back(running[r]);
        stepping_rows.push_back(static_cast<int64_t>(r));
      }
    }
    if (stepping.empty()) break;

    // Each example's loss depends on its own input only, so the gradient of the sum is each one's gradient.
    const torch::Tensor cross_entropy =
        -torch::log_softmax(scores.logits, 1).gather(1, running_targets.unsqueeze(1)).sum();
    const torch::Tensor gradient = torch::autograd::grad({cross_entropy}, {current})[0];
    const torch::Tensor rows = torch::tensor(stepping_rows, torch::kLong).to(out.levels.device());
    const torch::Tensor examples_stepping = torch::tensor(stepping, torch::kLong).to(out.levels.device());
    const torch::Tensor moved = current.detach().index_select(0, rows) -
                                settings.step_levels * gradient.index_select(0, rows).sign() *
                                    masks.index_select(0, examples_stepping);
    out.levels.index_copy_(0, examples_stepping, moved.clamp(0, 255));
    for (const int64_t i : stepping) ++out.iterations[static_cast<std::size_t>(i)];
    running = std::move(stepping);
  }
  return out;
}

}  // namespace pixab
