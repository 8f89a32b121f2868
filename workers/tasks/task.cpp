// The Task interface's defaults and the task registry: one entry per task.
#include "workers/tasks/task.hpp"

#include "io/error.hpp"
#include "workers/tasks/adversarial_task.hpp"
#include "workers/tasks/natural_task.hpp"
#include "workers/tasks/sanity_task.hpp"

namespace pixab {

std::vector<TaskRow> Task::rows_of(const DatasetItem& item) const { return {TaskRow{item, item.id, 0}}; }

void Task::declare_arrays(const std::vector<std::string>& /*method_ids*/, ArraySpecs& /*specs*/) const {}

TaskBatch Task::prepare_batch(const std::vector<const TaskRow*>& /*rows*/, torch::Tensor inputs) const {
  TaskBatch batch;
  batch.inputs = std::move(inputs);
  return batch;
}

BatchArrays Task::batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& /*methods*/, CamBatch& /*batch*/,
                               const BatchResults& /*results*/) const {
  return {};
}

namespace {

struct TaskEntry {
  TaskInfo info;
  std::unique_ptr<Task> (*make)(const Model& model, const TaskSettings& settings);
};

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries{
      {{"natural", "explain the dataset's images and score every metric (Tables 3-5)", true,
        TaskReport::kExplanationQuality},
       [](const Model&, const TaskSettings&) -> std::unique_ptr<Task> { return std::make_unique<NaturalTask>(); }},
      {{"sanity", "cascading model-parameter randomisation (Adebayo et al.), Spearman and SSIM per stage", false,
        TaskReport::kSanity},
       [](const Model& model, const TaskSettings& settings) -> std::unique_ptr<Task> {
         return std::make_unique<SanityTask>(model, settings.sanity_stages, settings.seed);
       }},
      {{"dap1", "adversarial patches on the dataset's images (AE1), DAP1 pointing game and OL (Tables 6-10)", false,
        TaskReport::kAdversarial},
       [](const Model& model, const TaskSettings& settings) -> std::unique_ptr<Task> {
         return std::make_unique<AdversarialTask>(AdversarialKind::kAe1, model, settings);
       }},
      {{"dap2", "adversarial patches alone on zero canvases (AE2), one row per patch: DAP2, DOA, COP (Tables 1, 2, 6-10)",
        false, TaskReport::kAdversarial, /*needs_dataset=*/false},
       [](const Model& model, const TaskSettings& settings) -> std::unique_ptr<Task> {
         return std::make_unique<AdversarialTask>(AdversarialKind::kAe2, model, settings);
       }},
  };
  return entries;
}

}  // namespace

const std::vector<TaskInfo>& implemented_tasks() {
  static const std::vector<TaskInfo> infos = [] {
    std::vector<TaskInfo> out;
    for (const auto& entry : task_registry()) out.push_back(entry.info);
    return out;
  }();
  return infos;
}

const TaskInfo* find_task(const std::string& name) {
  for (const auto& info : implemented_tasks()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::unique_ptr<Task> make_task(const std::string& name, const Model& model, const TaskSettings& settings) {
  for (const auto& entry : task_registry()) {
    if (entry.info.name == name) return entry.make(model, settings);
  }
  std::string known;
  for (const auto& info : implemented_tasks()) known += (known.empty() ? "" : ", ") + info.name;
  throw ConfigError("task '" + name + "' is not supported (supported: " + known + ")");
}

}  // namespace pixab
