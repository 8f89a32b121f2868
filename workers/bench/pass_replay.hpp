// The limit of `pixab bench`: a CamBatch's own passes from the batch's needs, the per-image count of a pass
// plan, and the timed replay of a plan's model calls alone on inputs holding what the method's rows hold.
#pragma once

#include <torch/cuda.h>
#include <torch/script.h>

#include <chrono>
#include <cstdint>

#include "io/model.hpp"
#include "workers/bench/bench.hpp"
#include "workers/cams/cam_batch.hpp"
#include "workers/cams/pass_plan.hpp"

namespace pixab {

// A CamBatch's passes for `images` images with the given needs: features, the head pass that gives the
// prediction (with its graph and the first backward pass where a gradient is needed), and one more backward
// per further gradient score, two for the Hessian-vector product. Baselines are the methods' own steps.
PassPlan batch_passes(const BatchNeeds& needs, int64_t images);

// Passes per image of a plan made for batches of `images` images.
PassCounts count_passes(const PassPlan& plan, int64_t images);

// Milliseconds of the plan's model calls alone on x (one batch). Each call's input is built before its timer
// starts, so the limit is model time only: what a method spends beyond it is its own tensor work.
double time_passes(const Model& model, const PassPlan& plan, const torch::Tensor& x);

// Wall milliseconds of work(), the device synchronised before and after.
template <class Work>
double elapsed_ms(const torch::Device& device, Work&& work) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
  const auto start = std::chrono::steady_clock::now();
  work();
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace pixab
