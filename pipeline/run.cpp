// The distributed run: rank 0 builds the manifest and shares it with every rank, rank 0 decides (fresh start,
// resume, nothing to do) under the output lock, ranks claim chunks dynamically and commit each as its own
// file, and rank 0 merges them into the one results file. Signals stop the claiming; a later --resume
// computes only what is missing.
#include "pipeline/run.hpp"

#include <ATen/Parallel.h>
#include <fmt/ranges.h>
#include <mpi.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "io/error.hpp"
#include "io/file_contents.hpp"
#include "io/interruption.hpp"
#include "io/model.hpp"
#include "io/process_status.hpp"
#include "io/results_file.hpp"
#include "io/sha256.hpp"
#include "pipeline/chunk_claims.hpp"
#include "pipeline/job_files.hpp"
#include "pipeline/manifest.hpp"
#include "pipeline/manifest_share.hpp"
#include "pipeline/merge.hpp"
#include "pipeline/mpi_util.hpp"
#include "pipeline/progress.hpp"
#include "pipeline/slurm_job.hpp"
#include "pipeline/stop_signals.hpp"
#include "pipeline/version.hpp"
#include "workers/item_processor.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

namespace {

// Keys left out of the recorded config and its hash: those that steer how a run goes, not what it computes
// (they may change between attempts), and the two files, which are recorded by content and by location
// instead (model_sha256 and model_path; the results file itself). A moved model file still resumes.
const std::set<std::string> kRunControlKeys = {"resume", "overwrite", "verbose", "progress_interval",
                                               "threads", "log_dir", "status_file", "model", "out"};

// How long a resume waits for a live run of the same output on this host to end: the last rank of a failed
// job may still be shutting down when mpirun has returned.
constexpr std::chrono::seconds kResumeWaitsForHolder{60};

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// The effective config without the run-control keys and files: the settings the results depend on.
std::string recorded_config(const std::string& effective_config) {
  std::istringstream in(effective_config);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::string key = line.substr(0, line.find('='));
    if (!kRunControlKeys.count(key)) out += line + "\n";
  }
  return out;
}

std::string dataset_label(const DatasetConfig& dataset) {
  if (!dataset.label.empty()) return dataset.label;
  std::string label = dataset.kind;
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return label;
}

// The items' source: the configured dataset, or, for a task that makes its own items (dap2),
// adversarial.count zero canvases at the model's input size (labelled AE2 unless dataset.label says otherwise).
DatasetConfig task_dataset(const RunConfig& config, const ModelMeta& meta) {
  const TaskInfo* task = find_task(config.task);
  if (!task || task->needs_dataset) return config.dataset;
  DatasetConfig canvases;
  canvases.kind = "canvas";
  canvases.label = config.dataset.label.empty() ? "AE2" : config.dataset.label;
  canvases.split = "";
  canvases.canvas_count = config.adversarial.count;
  canvases.canvas_width = meta.input_width;
  canvases.canvas_height = meta.input_height;
  return canvases;
}

// One line per Pixab-CAM method of the run, "<id>: <its settings>", so that `pixab report` can lay out the
// design study (Tables 7-10) from the file alone.
std::string pixab_variants_text(const std::vector<std::string>& methods, const CamSettings& cams) {
  std::vector<std::string> lines;
  for (const std::string& id : methods) {
    if (id == "pixab_cam") lines.push_back(id + ": " + pixab_settings_text(cams.pixab));
    for (const auto& [name, settings] : cams.variants) {
      if (id == "pixab_cam@" + name) lines.push_back(id + ": " + pixab_settings_text(settings));
    }
  }
  return fmt::format("{}", fmt::join(lines, "\n"));
}

void check_output_writable(const std::string& out) {
  const auto parent = std::filesystem::absolute(out).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec || access(parent.c_str(), W_OK) != 0) {
    throw ConfigError("out: cannot write into " + parent.string() + (ec ? " (" + ec.message() + ")" : ""));
  }
}

// One GPU per rank: "cuda" picks the node-local rank's device among the visible ones.
torch::Device rank_device(const std::string& text, const mpi::NodePlace& place) {
  torch::Device device = parse_device(text);
  if (text == "cuda") {
    const int visible = static_cast<int>(torch::cuda::device_count());
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(place.local_rank % visible));
  }
  return device;
}

// The CPUs this rank may use (its affinity: a Slurm allocation, mpirun's binding), shared with the ranks of
// its node that have the same ones, so that N unbound ranks on a node do not oversubscribe it (collective).
int default_threads() {
  const std::vector<int> cpus = allowed_cpus();
  const int sharing = mpi::node_ranks_with_same(fmt::format("{}", fmt::join(cpus, ",")));
  return std::max(1, static_cast<int>(cpus.size()) / sharing);
}

std::string joined_unique(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return fmt::format("{}", fmt::join(values, ","));
}

// The attributes of the existing output `out` when it is a results file. Some other file (not HDF5, not
// readable as results) is refused with a ConfigError naming it, or with --overwrite left to be replaced (the
// merge's rename puts the results in its place): nullopt. A folder is refused: no rename replaces it.
std::optional<ResultsData> existing_results(const RunConfig& config) {
  std::error_code ec;
  if (std::filesystem::is_directory(config.out, ec))
    throw ConfigError("output " + config.out + " is a folder; choose a file name for --out");
  try {
    return read_results_attributes(config.out);
  } catch (const IoError& e) {
    if (!config.overwrite) {
      throw ConfigError("output " + config.out + " exists and is not a pixab results file (" + e.what() +
                        "); remove it, choose another --out, or replace it with --overwrite");
    }
    spdlog::warn("output {} is not a pixab results file: it will be replaced (--overwrite)", config.out);
    return std::nullopt;
  }
}

// --status_file: what this attempt ended with, for a job script deciding whether to requeue (exit 3 and
// progress) without reading logs. Written by rank 0, atomically.
struct AttemptOutcome {
  int exit_code = kExitOk;
  std::size_t chunks_committed_before = 0, chunks_committed = 0, chunks_total = 0;
};

void write_status_file(const RunConfig& config, const AttemptOutcome& outcome) {
  if (config.status_file.empty() || mpi::rank() != 0) return;
  const nlohmann::json status{{"out", config.out},
                              {"exit_code", outcome.exit_code},
                              {"chunks_committed_before", outcome.chunks_committed_before},
                              {"chunks_committed", outcome.chunks_committed},
                              {"chunks_total", outcome.chunks_total},
                              {"progress", outcome.chunks_committed > outcome.chunks_committed_before}};
  try {
    write_file_atomically(config.status_file, status.dump(2) + "\n");
  } catch (const IoError& e) {  // the results are safe: only the job script's hint is missing
    spdlog::error("status_file: {}", e.what());
  }
}

// What rank 0 found on disk and decided.
struct Plan {
  int finished_exit_code = -1;    // >= 0: the output is complete, nothing to do
  std::vector<std::int64_t> pending;  // chunks to compute
  std::vector<std::string> attempts;
};

// Rank 0, under the output lock: a complete output with the same identity is left alone (G4); an unfinished
// run is continued only with --resume and only when nothing it depends on changed (G3); otherwise a fresh
// start. ConfigError for every refusal.
Plan plan_job(const RunConfig& config, const JobFiles& files, const JobIdentity& identity, const Manifest& manifest,
              const std::string& attempt) {
  Plan plan;
  namespace fs = std::filesystem;
  const std::optional<ResultsData> existing =
      !files.has_state() && fs::exists(config.out) ? existing_results(config) : std::nullopt;
  if (existing) {
    const auto text = [&](const char* key) {
      const auto it = existing->text_attributes.find(key);
      return it == existing->text_attributes.end() ? std::string() : it->second;
    };
    const JobIdentity recorded{text("config_sha256"), text("model_sha256"), text("manifest_sha256"),
                               static_cast<std::uint64_t>(existing->int_attributes.count("items_total")
                                                              ? existing->int_attributes.at("items_total")
                                                              : -1),
                               identity.chunk_size};
    const auto differences = identity_differences(recorded, identity);
    if (differences.empty()) {
      const auto failed = existing->int_attributes.find("items_failed");
      plan.finished_exit_code =
          failed != existing->int_attributes.end() && failed->second > 0 ? kExitItemErrors : kExitOk;
      spdlog::info("{} is complete for this config, model and manifest: nothing to do", config.out);
      return plan;
    }
    const std::string what = fmt::format("{}", fmt::join(differences, ", "));
    if (!config.overwrite) {
      throw ConfigError("output " + config.out + " exists and was made with a different " + what +
                        "; remove it, choose another --out, or replace it with --overwrite");
    }
    spdlog::warn("output {} was made with a different {}: it will be replaced (--overwrite)", config.out, what);
  }

  JobState state;
  if (files.has_state() && !config.resume && config.overwrite) {
    spdlog::warn("discarding the unfinished run in {} (--overwrite)", files.parts_dir());
    files.remove_parts();
  }
  if (files.has_state()) {
    if (!config.resume) {
      throw ConfigError("an unfinished run of " + config.out + " is in " + files.parts_dir() +
                        ": continue it with --resume, or start again with --overwrite");
    }
    state = files.read_state();
    const auto differences = identity_differences(state.identity, identity);
    if (!differences.empty()) {
      throw ConfigError("cannot resume " + config.out + ": the " + fmt::format("{}", fmt::join(differences, ", ")) +
                        " changed since the first attempt (" + files.state_path() +
                        "); restore it, or start again with --overwrite");
    }
  } else {
    if (config.resume) spdlog::info("nothing to resume for {}: starting", config.out);
    state.identity = identity;
  }
  const std::vector<bool> committed = files.committed_chunks(manifest.chunk_count());
  for (std::size_t c = 0; c < committed.size(); ++c) {
    if (!committed[c]) plan.pending.push_back(static_cast<std::int64_t>(c));
  }
  state.attempts.push_back(attempt + (files.has_state() ? " resume" : " start") + " pending_chunks=" +
                           std::to_string(plan.pending.size()) + "/" + std::to_string(manifest.chunk_count()));
  files.write_state(state);
  plan.attempts = state.attempts;
  return plan;
}

// Rank 0's plan on every rank (collective); a refusal there is JobRefused on every rank.
Plan share_plan(const std::function<Plan()>& make_plan) {
  Plan plan;
  on_rank0_or_refused([&] { plan = make_plan(); });
  plan.finished_exit_code = static_cast<int>(mpi::broadcast(static_cast<std::int64_t>(plan.finished_exit_code)));
  std::int64_t pending = mpi::broadcast(static_cast<std::int64_t>(plan.pending.size()));
  plan.pending.resize(static_cast<std::size_t>(pending));
  MPI_Bcast(plan.pending.data(), static_cast<int>(pending), MPI_INT64_T, 0, MPI_COMM_WORLD);
  return plan;
}

// A committed chunk: its rows as a small results file, with what the merge checks.
void commit_chunk(const JobFiles& files, const Manifest& manifest, std::size_t chunk, ProcessedItems&& done) {
  ResultsData data;
  data.items = std::move(done.records);
  data.arrays = std::move(done.arrays);
  data.int_attributes["first_row"] = static_cast<std::int64_t>(manifest.chunk_rows(chunk).first);
  data.int_attributes["chunk"] = static_cast<std::int64_t>(chunk);
  data.text_attributes["manifest_sha256"] = manifest.sha256;
  write_results_file(files.chunk_path(chunk), data);
}

// The model on this rank: rank 0 hashes its file as it loads it (a refusal there is JobRefused on every
// rank); the others take that hash instead of reading the file a second time.
Model load_model(const std::string& path, const torch::Device& device) {
  std::optional<Model> model;
  on_rank0_or_refused([&] { model = Model::load(path, device); });
  const std::string sha256 = mpi::broadcast(model ? model->sha256() : std::string());
  if (!model) model = Model::load(path, device, sha256);
  return std::move(*model);
}

}  // namespace

void on_rank0_or_refused(const std::function<void()>& work) {
  const int rank = mpi::rank();
  std::string refusal;
  bool refused = false;
  if (rank == 0) {
    try {
      work();
    } catch (const ConfigError& e) {
      refusal = e.what();
      refused = true;
    } catch (const ModelError& e) {
      refusal = e.what();
      refused = true;
    }
  }
  if (mpi::broadcast(static_cast<std::int64_t>(refused))) {
    const std::string message = mpi::broadcast(refusal);
    throw JobRefused(rank == 0 ? message : "");
  }
}

int run_job(const RunConfig& config, const std::string& effective_config) {
  const std::string started = utc_now_iso8601();
  const int rank = mpi::rank(), ranks = mpi::size();
  const mpi::NodePlace place = mpi::node_place();
  install_stop_signal_handlers();
  const int threads = config.threads > 0 ? config.threads : default_threads();
  at::set_num_threads(threads);

  const torch::Device device = rank_device(config.device, place);
  const Model model = load_model(config.model, device);
  const DatasetConfig dataset_config = task_dataset(config, model.meta());
  SharedDataset shared = share_dataset(dataset_config, config.limit, config.chunk_size);
  const Dataset& dataset = *shared.dataset;
  Manifest& manifest = shared.manifest;

  ProcessOptions options;
  options.methods = config.methods;
  options.target = config.target;
  options.batch_size = config.batch_size;
  options.cams = config.cams;
  options.cams.seed = config.seed;
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
  options.task_settings.sanity_stages = config.sanity_stages;
  options.task_settings.seed = config.seed;
  options.task_settings.adversarial = config.adversarial;
  const ItemProcessor processor(model, dataset, options);
  // Every rank makes the rows of the shared items itself: they follow from the items and the config alone.
  manifest.rows = processor.rows_of(manifest.items);

  const std::vector<std::string> hostnames = mpi::all_hostnames();
  const std::string config_text = recorded_config(effective_config);
  const JobIdentity identity{sha256_hex(config_text), model.sha256(), manifest.sha256, manifest.rows.size(),
                             manifest.chunk_size};
  const JobFiles files(config.out);
  const std::string attempt = started + " ranks=" + std::to_string(ranks) + " hosts=" + joined_unique(hostnames) +
                              " threads=" + std::to_string(threads) + " " +
                              slurm_job_from_environment().attempt_fields();
  std::unique_ptr<OutputLock> lock;
  const Plan plan = share_plan([&] {
    check_output_writable(config.out);
    lock = std::make_unique<OutputLock>(config.out, config.resume ? kResumeWaitsForHolder : std::chrono::seconds(0));
    return plan_job(config, files, identity, manifest, attempt);
  });
  const std::size_t chunks_total = manifest.chunk_count();
  if (plan.finished_exit_code >= 0) {
    write_status_file(config, {plan.finished_exit_code, chunks_total, chunks_total, chunks_total});
    return plan.finished_exit_code;
  }
  const std::size_t chunks_committed_before = chunks_total - plan.pending.size();

  const std::size_t committed_items = [&] {
    std::size_t rows = manifest.rows.size();
    for (const std::int64_t c : plan.pending) rows -= manifest.chunk_rows(static_cast<std::size_t>(c)).second;
    return rows;
  }();
  spdlog::info(
      "{} items in {} chunks of {}, {} to compute ({} ranks on {}, {} thread(s) per rank, {}); task {}, methods: "
      "{}, metrics: {}",
      manifest.rows.size(), manifest.chunk_count(), manifest.chunk_size, plan.pending.size(), ranks,
      joined_unique(hostnames), threads, device.str(), options.task, fmt::join(options.methods, ", "),
      options.metrics.metrics.empty() ? std::string("none") : fmt::format("{}", fmt::join(options.metrics.metrics, ", ")));
  spdlog::debug("rank {} of {}: node-local rank {} of {}, device {}", rank, ranks, place.local_rank, place.local_size,
                device.str());

  ChunkClaims claims(static_cast<std::int64_t>(plan.pending.size()), MPI_COMM_WORLD);
  Progress progress(manifest.rows.size(), config.progress_interval, committed_items);
  const auto serve = [&] {  // rank 0 keeps the claims served and the progress line going while it is busy
    if (rank != 0) return;
    mpi::poke_progress();
    progress.report(committed_items + static_cast<std::size_t>(claims.done_items()));
  };
  const auto keep_going = [&] {
    serve();
    if (stop_signal_received()) claims.request_stop();
    return !claims.stop_requested();
  };
  // Between batches a rank also hears of other ranks' stops (above); before each model pass only of its own
  // signal, a flag to read, not a remote atomic per pass. Slurm and mpirun signal every rank.
  const ScopedInterruptionCheck signal_between_passes([] { return stop_signal_received() == 0; });
  std::size_t chunks_done_here = 0;
  // The machinery's own cost (claiming, committing, merging) against the per-item compute, for
  // docs/performance.md.
  double compute_seconds = 0, machinery_seconds = 0;
  const auto timed = [](double& total, auto&& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  while (keep_going()) {
    std::int64_t position = -1;
    timed(machinery_seconds, [&] { position = claims.claim(); });
    if (position < 0) break;
    const auto chunk = static_cast<std::size_t>(plan.pending[static_cast<std::size_t>(position)]);
    const auto [first, count] = manifest.chunk_rows(chunk);
    const std::vector<TaskRow> rows(manifest.rows.begin() + static_cast<std::ptrdiff_t>(first),
                                    manifest.rows.begin() + static_cast<std::ptrdiff_t>(first + count));
    ProcessedItems done;
    timed(compute_seconds, [&] { done = processor.process(rows, keep_going); });
    if (!done.complete) {  // dropped (a stop, seen between batches or passes): a resume computes it again
      claims.request_stop();  // the job cannot be complete: every rank stops
      break;
    }
    for (const auto& record : done.records) {
      if (record.status != ItemStatus::kOk)
        spdlog::warn("item {}: {} ({})", record.id, item_status_name(record.status), record.message);
    }
    timed(machinery_seconds, [&] {
      commit_chunk(files, manifest, chunk, std::move(done));
      claims.add_done_items(static_cast<std::int64_t>(count));
    });
    ++chunks_done_here;
    spdlog::debug("chunk {} committed ({} items)", chunk, count);
  }
  mpi::barrier_serving([&] {
    serve();
    if (stop_signal_received()) claims.request_stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  const bool stopped = mpi::any(claims.stop_requested());
  claims.close();
  // Every rank's own line (in its log file; on the console with --verbose): the G11 memory check reads it.
  spdlog::log(rank == 0 ? spdlog::level::info : spdlog::level::debug,
              "rank {}: {} chunk(s) computed in {:.2f} s, claiming and committing {:.3f} s, peak RSS {:.0f} MiB",
              rank, chunks_done_here, compute_seconds, machinery_seconds, status_mb("VmHWM"));
  if (stopped) {
    if (rank == 0) {
      const std::vector<bool> committed = files.committed_chunks(chunks_total);
      const auto count = static_cast<std::size_t>(std::count(committed.begin(), committed.end(), true));
      spdlog::warn("stopped by a signal: {} of {} chunks committed in {} ({} by this attempt); `pixab run "
                   "--resume` with the same config continues the job",
                   count, chunks_total, files.parts_dir(), count - chunks_committed_before);
      write_status_file(config, {kExitSignal, chunks_committed_before, count, chunks_total});
    }
    return kExitSignal;
  }
  progress.report(manifest.rows.size());
  progress.finish();

  std::int64_t exit_code = kExitOk;
  if (rank == 0) {
    std::map<std::string, std::string> text;
    text["software"] = "pixab";
    text["software_version"] = kGitDescribe;
    text["created"] = utc_now_iso8601();
    text["config"] = config_text;
    text["config_sha256"] = identity.config_sha256;
    text["model_path"] = std::filesystem::absolute(model.path()).string();
    text["model_sha256"] = model.sha256();
    text["model_meta"] = model.meta().json_text;
    text["manifest_sha256"] = manifest.sha256;
    text["task"] = options.task;
    text["dataset"] = dataset_config.kind + ":" + dataset_config.root + ":" + dataset_config.split;
    text["dataset_label"] = dataset_label(dataset_config);
    text["hostnames"] = joined_unique(hostnames);
    text["device"] = config.device == "cuda" && ranks > 1 ? "cuda (one device per rank)" : device.str();
    text["libtorch"] = libtorch_version();
    text["hdf5"] = hdf5_version();
    text["opencv"] = opencv_version();
    text["mpi"] = mpi_version();
    text["attempts"] = fmt::format("{}", fmt::join(plan.attempts, "\n"));
    text["methods"] = fmt::format("{}", fmt::join(options.methods, ","));
    text["metrics"] = fmt::format("{}", fmt::join(options.metrics.metrics, ","));
    for (const auto& [key, value] : processor.task().attributes()) text[key] = value;
    text["pixab_variants"] = pixab_variants_text(options.methods, options.cams);
    std::map<std::string, std::int64_t> ints{{"seed", static_cast<std::int64_t>(config.seed)},
                                              {"mpi_ranks", ranks},
                                              {"chunk_size", static_cast<std::int64_t>(manifest.chunk_size)}};
    try {
      double merge_seconds = 0;
      MergeCounts counts;
      timed(merge_seconds, [&] {
        counts = merge_chunks(files, manifest, text, ints, processor.task().per_item_arrays());
        files.remove_parts();
      });
      spdlog::info("wrote {}: {} items, {} ok, {} failed, {:.1f} s (merge {:.3f} s)", config.out,
                   manifest.rows.size(), counts.items_ok, counts.items_failed, progress.elapsed_seconds(),
                   merge_seconds);
      exit_code = counts.items_failed > 0 ? kExitItemErrors : kExitOk;
    } catch (const Error& e) {
      spdlog::critical("merge failed, the chunk files are kept in {}: {}", files.parts_dir(), e.what());
      exit_code = kExitInternal;
    }
  }
  exit_code = mpi::broadcast(exit_code);
  write_status_file(config, {static_cast<int>(exit_code), chunks_committed_before, chunks_total, chunks_total});
  return static_cast<int>(exit_code);
}

}  // namespace pixab
