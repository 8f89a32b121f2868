// Run options: names are the TOML keys, so every key of a config file can be given on the command line too.
#include "pipeline/cli_config.hpp"

#include "workers/cams/cam_method.hpp"
#include "workers/tasks/task.hpp"

#include <memory>
#include <sstream>
#include <utility>
#include <vector>

namespace pixab {

namespace {

// The part of a TOML line before a comment ('#' outside a string).
std::string without_comment(const std::string& line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) quoted = !quoted;
    if (line[i] == '#' && !quoted) return line.substr(0, i);
  }
  return line;
}

// '[' minus ']' outside strings.
int open_brackets(const std::string& text) {
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"' && (i == 0 || text[i - 1] != '\\')) quoted = !quoted;
    if (!quoted) depth += (text[i] == '[') - (text[i] == ']');
  }
  return depth;
}

// CLI11 2.1 reads an array only when it stands on one line; TOML also allows arrays across lines, with
// comments and a trailing comma (configs/pixab-design-study.toml). Such arrays are joined into one line
// first.
std::string join_multiline_arrays(std::istream& input) {
  std::string out, line, pending;
  while (std::getline(input, line)) {
    if (pending.empty()) {
      const std::string code = without_comment(line);
      if (code.find('=') != std::string::npos && open_brackets(code) > 0) {
        pending = code;
      } else {
        out += line + "\n";
      }
      continue;
    }
    pending += " " + without_comment(line);
    if (open_brackets(pending) <= 0) {
      const auto close = pending.find_last_of(']');
      const auto last_item = pending.find_last_not_of(" \t", close - 1);
      if (last_item != std::string::npos && pending[last_item] == ',') pending.erase(last_item, 1);
      out += pending + "\n";
      pending.clear();
    }
  }
  return out + pending;  // an unclosed array is left for the parser to report
}

}  // namespace

std::vector<CLI::ConfigItem> SectionedTomlConfig::from_config(std::istream& raw_input) const {
  std::istringstream input(join_multiline_arrays(raw_input));
  std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
  std::vector<CLI::ConfigItem> routed;
  for (auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section open/close markers: no subcommands here
    std::string prefix;
    for (const auto& parent : item.parents) prefix += parent + ".";
    item.name = prefix + item.name;
    item.parents = {subcommand_};  // CLI11 2.1 reads config files at the top level only: route them down
    routed.push_back(std::move(item));
  }
  return routed;
}

void add_run_options(CLI::App& app, CLI::App& run, RunConfig& c) {
  // --config belongs to the top-level app (where CLI11 reads config files); fallthrough lets users write it
  // after the subcommand, as `pixab run --config FILE`.
  app.config_formatter(std::make_shared<SectionedTomlConfig>(run.get_name()));
  app.set_config("--config", "", "TOML config file of `run`; every key can also be given as --key")
      ->check(CLI::ExistingFile);
  run.fallthrough();
  run.footer(
      "Config file: --config FILE (TOML). Every key is one of the options above: top-level keys as written,\n"
      "[section] key = value as --section.key (e.g. [dataset] root = \"x\" is --dataset.root x). The "
      "command\n"
      "line overrides the file; an unknown key is an error. Relative paths are relative to the working "
      "folder.");
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key must not be silently ignored
  run.add_option("--model", c.model, "TorchScript model file (docs/model-contract.md)")->required();
  run.add_option("--device", c.device, "cpu, cuda or cuda:N")->capture_default_str();
  run.add_option("--dataset.kind", c.dataset.kind,
                 "dataset layout: voc, imagenet, coco or list (docs/datasets.md)")
      ->capture_default_str();
  run.add_option("--dataset.root", c.dataset.root,
                 "dataset root folder (list: a CSV file or a folder); required except for task dap2");
  run.add_option("--dataset.label", c.dataset.label,
                 "the dataset's column heading in `pixab report` (default: the kind in capitals)");
  run.add_option("--dataset.split", c.dataset.split,
                 "image set (voc: ImageSets/Main/<split>.txt; imagenet: val; coco: val2014)")
      ->capture_default_str();
  run.add_option("--dataset.sample", c.dataset.sample, "process N items drawn with dataset.seed (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--dataset.seed", c.dataset.seed, "seed of the dataset.sample draw")->capture_default_str();
  run.add_option("--dataset.max_pixels", c.dataset.max_pixels,
                 "larger images (width x height) are too_large, refused from their header")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  // Both keep their objects by default: a difficult or crowd box still shows where the class is.
  const auto include_or_exclude = [&run](const char* name, bool& include, const char* what) {
    run.add_option_function<std::string>(
           name, [&include](const std::string& v) { include = v == "include"; }, what)
        ->check(CLI::IsMember({"include", "exclude"}))
        ->default_str("include");
  };
  include_or_exclude("--dataset.difficult", c.dataset.include_difficult,
                     "voc: objects marked difficult, include or exclude");
  include_or_exclude("--dataset.crowd", c.dataset.include_crowd,
                     "coco: crowd boxes (iscrowd = 1), include or exclude");
  std::string methods_help = "CAM methods to compute, by id or group (docs/methods.md); groups:";
  for (const auto& [group, summary] : cam_method_groups()) methods_help += " " + group + " (" + summary + ");";
  methods_help.back() = '.';
  run.add_option("--methods", c.methods, methods_help)->delimiter(',')->default_str("all");
  run.add_option("--target", c.target,
                 "target class: predicted, label (imagenet, list), or one class for every image, by index or label")
      ->capture_default_str();
  run.add_option("--out", c.out, "results file (HDF5)")->capture_default_str();
  run.add_option("--limit", c.limit, "process only the first N items of the manifest (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--batch_size", c.batch_size, "images per model pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--threads", c.threads,
                 "CPU threads per rank for LibTorch (0: the CPUs this rank may use, shared with the ranks of its "
                 "node that may use the same)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--progress_interval", c.progress_interval, "seconds between progress lines")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--seed", c.seed, "seed for every random choice of the run")->capture_default_str();
  run.add_flag("--verbose", c.verbose, "debug logging on every rank");
  run.add_flag("--resume", c.resume,
               "continue an unfinished run of `out` (its committed chunks are kept); refused when the config, "
               "model or item list changed");
  run.add_flag("--overwrite", c.overwrite,
               "replace an existing output, or discard an unfinished run, made with a different config, model or "
               "item list (an identical complete output is still left alone)");
  run.add_option("--chunk_size", c.chunk_size, "items per chunk (the unit of work claimed, committed, resumed)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--log_dir", c.log_dir, "also write each rank's log to <log_dir>/rank-<r>.log");
  run.add_option("--status_file", c.status_file,
                 "write this attempt's outcome (exit code, chunks committed before and after, total) here as JSON "
                 "when the run ends: how a job script sees whether a stopped run made progress");
  run.add_option("--head_batch_size", c.head_batch_size,
                 "masked activation tensors per head pass (Ablation-CAM, Pixab-CAM); 0: from pass_memory_mb")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--full_batch_size", c.full_batch_size,
                 "masked images per forward pass (Score-CAM); 0: from pass_memory_mb")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--pass_memory_mb", c.pass_memory_mb,
                 "memory budget of one batched pass, for the 0 batch sizes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option_function<std::string>(
         "--ablation.score",
         [&c](const std::string& v) {
           c.cams.ablation_score = v == "prob" ? ScoreKind::kProbability : ScoreKind::kLogit;
         },
         "Ablation-CAM's score: logit or prob")
      ->check(CLI::IsMember({"logit", "prob"}))
      ->default_str("logit");
  run.add_option("--finer.comparisons", c.cams.finer.comparisons,
                 "Finer-CAM: the classes whose logits are closest to the target's, compared with it")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--finer.alpha", c.cams.finer.alpha,
                 "Finer-CAM: the weight of the comparison classes' logits in the target's margin")
      ->capture_default_str();
  run.add_option("--fem.k", c.cams.fem_sigmas,
                 "FEM: a cell counts when it exceeds its channel's mean by k standard deviations")
      ->capture_default_str();
  std::vector<std::string> task_names;
  std::string task_help = "the experiment:";
  for (const auto& task : implemented_tasks()) {
    task_names.push_back(task.name);
    task_help += " " + task.name + " (" + task.summary + ");";
  }
  task_help.back() = '.';
  run.add_option("--task", c.task, task_help)->check(CLI::IsMember(task_names))->capture_default_str();
  run.add_option("--metrics", c.metrics.metrics,
                 "metrics to compute, or none (default: all for task natural, none for sanity)")
      ->delimiter(',');
  run.add_option("--steps", c.metrics.steps, "deletion / insertion steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--tolerance_px", c.metrics.tolerance_px, "pointing game tolerance radius, pixels")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--loc_threshold", c.metrics.loc_threshold,
                 "weakly supervised localisation threshold, a fraction of max E")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  run.add_option("--sanity.stages", c.sanity_stages,
                 "sanity check: randomise the first N parameter groups, output end first (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  // The adversarial-patch tasks (metrics.md "Adversarial examples").
  AdversarialSettings& a = c.adversarial;
  run.add_option("--adversarial.kmin", a.kmin, "dap1/dap2: fewest patches per example (0: 1 for dap1, 2 for dap2)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run.add_option("--adversarial.kmax", a.kmax, "dap1/dap2: most patches per example")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--adversarial.alpha", a.alpha, "dap1/dap2: attack step, a multiple of 1/255")
      ->capture_default_str();
  run.add_option("--adversarial.confidence", a.confidence,
                 "dap1/dap2: the attack stops once the top-1 is the target with at least this probability")
      ->capture_default_str();
  run.add_option("--adversarial.max_iters", a.max_iters, "dap1/dap2: attack steps at most (per stage for dap1)")
      ->capture_default_str();
  run.add_option("--adversarial.size_min", a.size_min, "dap1/dap2: smallest patch side, a fraction of the input side")
      ->capture_default_str();
  run.add_option("--adversarial.size_max", a.size_max, "dap1/dap2: largest patch side, a fraction of the input side")
      ->capture_default_str();
  run.add_option("--adversarial.count", a.count, "dap2: how many AE2s (zero canvases; no dataset is read)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run.add_option("--adversarial.cop_threshold", a.cop_threshold,
                 "dap2: COP's tau_c, a channel covers a pixel where s(U(A^k)) >= tau_c")
      ->capture_default_str();
  run.add_flag("--store_weights", c.store_weights, "store channel weights in /weights/<method> (large)");
  run.add_flag("--store_pixab_maps", c.store_pixab_maps,
               "store Pixab-CAM's D and R maps in /pixab/<method>/");

  // The [pixab] table: each key goes through the same parser as a variant's keys, so both accept the same
  // values.
  // default_str only documents the defaults (the callbacks do not run for them), so that the effective config
  // recorded in every results file states the whole [pixab] table.
  for (const auto& [key, fallback] : std::vector<std::pair<const char*, const char*>>{
           {"padding", "full"}, {"terms", "both"}, {"score", "prob"}, {"strict", "false"}}) {
    run.add_option_function<std::string>(
           std::string("--pixab.") + key,
           [&c, key = key](const std::string& v) { set_pixab_key(c.cams.pixab, key, v, "[pixab]"); },
           std::string("Pixab-CAM ") + key)
        ->default_str(fallback);
  }
  run.add_option_function<std::vector<std::string>>(
         "--pixab.boxes",
         [&c](const std::vector<std::string>& boxes) {
           std::string joined;
           for (const auto& b : boxes) joined += (joined.empty() ? "" : ",") + b;
           set_pixab_key(c.cams.pixab, "boxes", joined, "[pixab]");
         },
         "Pixab-CAM box sizes HxW")
      ->delimiter(',')
      ->default_str("1x1,1x2,2x1,2x2");
  // Variants start from the [pixab] table, so it is applied first (its options are registered first).
  run.add_option_function<std::vector<std::string>>(
      "--pixab.variants",
      [&c](const std::vector<std::string>& texts) {
        for (const auto& text : texts) c.cams.variants.push_back(parse_pixab_variant(text, c.cams.pixab));
      },
      "named Pixab-CAM variants, \"name: key=value ...\", each computed as pixab_cam@name");
}

namespace {

// Records a resolved list as if it had been given, so that the effective config can be run again as is.
void record_list(CLI::App& run, const char* option_name, const std::vector<std::string>& values) {
  CLI::Option* option = run.get_option(option_name);
  option->clear();
  for (const auto& value : values) option->add_result(value);
}

}  // namespace

void resolve_default_lists(CLI::App& run, RunConfig& c) {
  c.methods = resolve_cam_method_names(c.methods, c.cams);
  record_list(run, "--methods", c.methods);
  auto& metrics = c.metrics.metrics;
  if (metrics.size() == 1 && metrics.front() == "none") {
    metrics.clear();
  } else if (metrics.empty()) {
    const TaskInfo* task = find_task(c.task);
    if (task && task->every_metric_by_default) metrics = implemented_metrics();
    record_list(run, "--metrics", metrics.empty() ? std::vector<std::string>{"none"} : metrics);
  }
}

std::string effective_config_toml(const CLI::App& run) {
  return run.config_to_str(/*default_also=*/true, false);
}

}  // namespace pixab
