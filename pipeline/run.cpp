// The run: model and dataset checks up front, the manifest, items processed in chunks with progress, one
// results file written atomically with its provenance.
#include "pipeline/run.hpp"

#include <ATen/Parallel.h>
#include <fmt/ranges.h>
#include <mpi.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include "io/error.hpp"
#include "io/model.hpp"
#include "io/results_file.hpp"
#include "io/sha256.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/version.hpp"
#include "workers/item_processor.hpp"

namespace pixab {

namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string hostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

// The manifest fixes the rows of the results file: items sorted by id, cut to the limit. Its hash lets a
// later resume or comparison prove it saw the same list.
std::vector<DatasetItem> build_manifest(const Dataset& dataset, int limit) {
  std::vector<DatasetItem> items = dataset.items();
  if (limit > 0 && static_cast<std::size_t>(limit) < items.size())
    items.resize(static_cast<std::size_t>(limit));
  return items;
}

std::string manifest_sha256(const std::vector<DatasetItem>& items) {
  std::string text;
  for (const auto& item : items) text += item.id + "\t" + item.image_path + "\n";
  return sha256_hex(text);
}

std::string attempt_line(const std::string& started, int ranks) {
  const char* slurm_job = std::getenv("SLURM_JOB_ID");
  return started + " start ranks=" + std::to_string(ranks) + " host=" + hostname() +
         " slurm_job=" + (slurm_job ? slurm_job : "-");
}

std::string dataset_label(const DatasetConfig& dataset) {
  if (!dataset.label.empty()) return dataset.label;
  std::string label = dataset.kind;
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return label;
}

void check_output_writable(const std::string& out) {
  const auto parent = std::filesystem::absolute(out).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec || access(parent.c_str(), W_OK) != 0) {
    throw ConfigError("out: cannot write into " + parent.string() + (ec ? " (" + ec.message() + ")" : ""));
  }
}

}  // namespace

int run_job(const RunConfig& config, const std::string& effective_config) {
  const std::string started = utc_now_iso8601();
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks > 1) {
    throw ConfigError(
        "this version of pixab runs on one rank; start it without mpirun (distributed work claiming "
        "is not implemented yet)");
  }
  const int threads =
      config.threads > 0 ? config.threads : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(std::max(1, threads));

  const torch::Device device = parse_device(config.device);
  const Model model = Model::load(config.model, device);
  spdlog::info("model {} ({}), input {}x{}, target layer grid {}x{} with {} channels, {} classes, on {}",
               model.path(), model.meta().name, model.meta().input_height, model.meta().input_width,
               model.grid_height(), model.grid_width(), model.feature_channels(), model.meta().num_classes,
               device.str());

  const auto dataset = open_dataset(config.dataset);
  const std::vector<DatasetItem> manifest = build_manifest(*dataset, config.limit);
  if (manifest.empty()) throw ConfigError("dataset " + config.dataset.root + " lists no items");
  check_output_writable(config.out);

  ProcessOptions options;
  options.methods = config.methods;
  options.target = config.target;
  options.batch_size = config.batch_size;
  options.cams = config.cams;
  const PassBatchSizes by_memory = pass_batch_sizes_for_memory(
      config.pass_memory_mb,
      static_cast<std::int64_t>(model.feature_channels()) * model.grid_height() * model.grid_width(),
      static_cast<std::int64_t>(model.meta().channels) * model.meta().input_height *
          model.meta().input_width);
  options.cams.head_batch_size = config.head_batch_size > 0 ? config.head_batch_size : by_memory.head;
  options.cams.full_batch_size = config.full_batch_size > 0 ? config.full_batch_size : by_memory.full;
  options.store_weights = config.store_weights;
  options.store_pixab_maps = config.store_pixab_maps;
  options.metrics = config.metrics;
  options.metrics.full_batch_size = options.cams.full_batch_size;
  options.task = config.task;
  options.sanity_stages = config.sanity_stages;
  options.seed = config.seed;
  const ItemProcessor processor(model, *dataset, options);
  spdlog::info(
      "{} items, task {}, methods: {}, metrics: {}, batch sizes: {} images per features pass, {} rows per head pass, {} images "
      "per full pass, {} thread(s)",
      manifest.size(), options.task, fmt::join(options.methods, ", "),
      options.metrics.metrics.empty() ? std::string("none") : fmt::format("{}", fmt::join(options.metrics.metrics, ", ")),
      options.batch_size, options.cams.head_batch_size,
      options.cams.full_batch_size, threads);

  // Work goes in chunks of whole batches so that progress is reported while the run is long.
  const std::size_t chunk = static_cast<std::size_t>(options.batch_size) * 4;
  ResultsData results;
  std::map<std::string, ItemArrays> arrays;
  Progress progress(manifest.size(), config.progress_interval);
  for (std::size_t start = 0; start < manifest.size(); start += chunk) {
    const std::vector<DatasetItem> part(manifest.begin() + start,
                                        manifest.begin() + std::min(manifest.size(), start + chunk));
    ProcessedItems done = processor.process(part);
    for (auto& record : done.records) {
      if (record.status != ItemStatus::kOk) {
        spdlog::warn("item {}: {} ({})", record.id, item_status_name(record.status), record.message);
      }
      results.items.push_back(std::move(record));
    }
    for (auto& [path, part_array] : done.arrays) {
      ItemArrays& whole = arrays[path];
      whole.row_shape = part_array.row_shape;
      whole.values.insert(whole.values.end(), part_array.values.begin(), part_array.values.end());
    }
    progress.advance(part.size());
  }
  progress.finish();

  const auto n = static_cast<std::uint64_t>(results.items.size());
  for (auto& [path, array] : arrays) {
    std::vector<std::uint64_t> shape{n};
    shape.insert(shape.end(), array.row_shape.begin(), array.row_shape.end());
    results.arrays[path] = FloatArray{std::move(shape), std::move(array.values)};
  }
  const auto failed = static_cast<std::int64_t>(
      std::count_if(results.items.begin(), results.items.end(),
                    [](const ItemRecord& r) { return r.status != ItemStatus::kOk; }));

  auto& text = results.text_attributes;
  text["software"] = "pixab";
  text["software_version"] = kGitDescribe;
  text["created"] = utc_now_iso8601();
  text["config"] = effective_config;
  text["config_sha256"] = sha256_hex(effective_config);
  text["model_path"] = std::filesystem::absolute(model.path()).string();
  text["model_sha256"] = model.sha256();
  text["model_meta"] = model.meta().json_text;
  text["manifest_sha256"] = manifest_sha256(manifest);
  text["task"] = options.task;
  text["dataset_label"] = dataset_label(config.dataset);
  text["metrics"] = fmt::format("{}", fmt::join(options.metrics.metrics, ","));
  if (options.task == "sanity")
    text["sanity_stages"] = fmt::format("{}", fmt::join(processor.sanity_stage_names(), ","));
  text["dataset"] = config.dataset.kind + ":" + config.dataset.root + ":" + config.dataset.split;
  text["hostnames"] = hostname();
  text["device"] = device.str();
  text["libtorch"] = libtorch_version();
  text["hdf5"] = hdf5_version();
  text["opencv"] = opencv_version();
  text["mpi"] = mpi_version();
  text["attempts"] = attempt_line(started, ranks);
  text["methods"] = fmt::format("{}", fmt::join(options.methods, ","));
  auto& ints = results.int_attributes;
  ints["seed"] = static_cast<std::int64_t>(config.seed);
  ints["items_total"] = static_cast<std::int64_t>(n);
  ints["items_ok"] = static_cast<std::int64_t>(n) - failed;
  ints["items_failed"] = failed;
  ints["mpi_ranks"] = ranks;

  write_results_file(config.out, results);
  spdlog::info("wrote {}: {} items, {} ok, {} failed, {:.1f} s", config.out, n, n - failed, failed,
               progress.elapsed_seconds());
  return failed > 0 ? kExitItemErrors : kExitOk;
}

}  // namespace pixab
