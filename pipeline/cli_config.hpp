// The run's configuration: one struct, its command-line options, and TOML config files mapped onto the same
// options
// (`[dataset] root = "x"` in a file is `--dataset.root x` on the command line).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "io/dataset.hpp"
#include "workers/adversarial/adversarial_settings.hpp"
#include "workers/cams/cam_settings.hpp"
#include "workers/metrics/metric_settings.hpp"

namespace pixab {

struct RunConfig {
  std::string config_file;
  std::string model;
  std::string device = "cpu";
  DatasetConfig dataset;
  std::vector<std::string> methods;  // empty: every implemented method
  std::string target = "predicted";
  std::string out = "results/demo.h5";
  int limit = 0;  // 0: all items
  int batch_size = 16;
  int threads = 0;  // 0: the CPUs this rank may use, shared with the node's ranks that may use the same
  double progress_interval = 10.0;
  std::uint64_t seed = 0;
  bool verbose = false;
  CamSettings cams;               // Ablation-CAM's score, [pixab] and its variants (batch sizes: below)
  int head_batch_size = 0;        // rows per head pass; 0: from pass_memory_mb
  int full_batch_size = 0;        // images per full pass; 0: from pass_memory_mb
  int pass_memory_mb = 1024;      // memory budget of one ablation / Score-CAM pass
  bool store_weights = false;     // /weights/<method>
  bool store_pixab_maps = false;  // /pixab/<method>/D and /R
  std::string task = "natural";   // a task of implemented_tasks() (workers/tasks/task.hpp)
  MetricSettings metrics;         // metrics.metrics empty: the task's default (every metric for natural)
  int sanity_stages = 0;          // 0: every parameter group
  AdversarialSettings adversarial;  // the dap1 and dap2 tasks
  bool resume = false;            // continue an unfinished run of `out`
  bool overwrite = false;         // replace an output (or unfinished run) made with another config/model/list
  int chunk_size = 16;            // items per chunk: the unit of claiming, committing and resuming
  std::string log_dir;            // also write each rank's log to <log_dir>/rank-<r>.log
  std::string status_file;        // rank 0 writes the attempt's outcome here as JSON when the run ends
};

// CLI11 reads TOML sections as subcommands; pixab's sections are option prefixes instead, so [a] b = 1 is
// --a.b of the subcommand the config file is for.
class SectionedTomlConfig : public CLI::ConfigTOML {
 public:
  explicit SectionedTomlConfig(std::string subcommand) : subcommand_(std::move(subcommand)) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  std::string subcommand_;
};

// Registers every run option on the `run` subcommand, and --config on the app. Options that need parsing (the
// [pixab] table and its variants) are applied to `config` when the command line is parsed.
void add_run_options(CLI::App& app, CLI::App& run, RunConfig& config);

// An empty method list means every implemented method and every named Pixab variant; an empty metric list
// means every metric for the natural task and none for the sanity check ("none" asks for none). Resolves both,
// on the config and on the parsed options, so that the effective configuration lists them.
void resolve_default_lists(CLI::App& run, RunConfig& config);

// The effective configuration (after file and command line) as TOML text, for provenance.
std::string effective_config_toml(const CLI::App& run);

}  // namespace pixab
