// `pixab bench`: the command line of the per-method timing against the model passes each method needs.
#include <ATen/Parallel.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "io/model.hpp"
#include "io/process_status.hpp"
#include "pipeline/command.hpp"
#include "pipeline/run.hpp"
#include "workers/bench/bench.hpp"

namespace pixab {

namespace {

struct BenchCommandOptions {
  std::string model;
  std::string device = "cpu";
  std::string format = "markdown";
  int threads = 0;  // 0: every CPU this process may use
  BenchOptions bench;
};

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "time each CAM method per image against the time of exactly the model passes it needs");
  cmd->add_option("--model", o->model, "TorchScript model file (docs/model-contract.md)")->required();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--images", o->bench.images, "synthetic images (seeded) to time; medians are over them")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--batch_size", o->bench.batch_size, "images per batch (1: per-image latency)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->bench.warmup, "untimed runs of each method and its limit first")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--methods", o->bench.methods, "CAM methods or groups (all, every, extra) to time (default: all)")
      ->delimiter(',');
  cmd->add_option("--head_batch_size", o->bench.cams.head_batch_size,
                  "masked activation tensors per head pass (Ablation-CAM, Pixab-CAM)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--full_batch_size", o->bench.cams.full_batch_size,
                  "masked images per forward pass (Score-CAM)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads for LibTorch (0: every CPU this process may use)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--seed", o->bench.seed, "seed of the synthetic images")->capture_default_str();
  cmd->add_option("--metrics", o->bench.metrics.metrics,
                  "metrics timed in the whole_image_metrics row (default: all; none: no such row)")
      ->delimiter(',');
  cmd->add_option("--steps", o->bench.metrics.steps, "deletion / insertion steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--attack_steps", o->bench.attack_steps,
                  "steps per example of the adversarial_attack row (the dap tasks' attack; 0: no such row)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--format", o->format, "markdown (a table) or json (one object keyed by method id)")
      ->check(CLI::IsMember({"markdown", "json"}))
      ->capture_default_str();
  return {cmd, [o] {
            const int threads = o->threads > 0 ? o->threads : static_cast<int>(allowed_cpus().size());
            at::set_num_threads(threads);
            auto& metrics = o->bench.metrics.metrics;
            if (metrics.empty()) metrics = implemented_metrics();
            if (metrics.size() == 1 && metrics.front() == "none") metrics.clear();
            const Model model = Model::load(o->model, parse_device(o->device));
            const BenchReport report = run_bench(model, o->bench);
            if (o->format == "json") {
              std::cout << bench_json(report).dump(2) << "\n";
            } else {
              std::cout << bench_markdown(report, model);
            }
            return static_cast<int>(kExitOk);
          }};
}

}  // namespace pixab
