// Item processing: every source item is read once, every batch goes through features once, and all methods
// share it; the rows' arrays are filled from their declarations once a whole batch has succeeded.
#include "workers/item_processor.hpp"

#include <torch/csrc/jit/runtime/jit_exception.h>

#include <algorithm>
#include <limits>
#include <new>
#include <typeinfo>

#include <opencv2/core.hpp>

#include "io/error.hpp"
#include "io/image_reader.hpp"
#include "io/interruption.hpp"
#include "workers/preprocess.hpp"

namespace pixab {

bool is_item_model_failure(const std::exception& error) {
  // A CUDA error can leave the device unusable for every later item: never the item's fault.
  const auto not_cuda = [&] { return std::string(error.what()).find("CUDA error") == std::string::npos; };
  if (dynamic_cast<const Error*>(&error)) return false;  // pixab's own errors have their own handling
  if (dynamic_cast<const std::bad_alloc*>(&error)) return true;
  if (dynamic_cast<const c10::Error*>(&error)) return not_cuda();
  // The TorchScript interpreter rethrows what fails inside a scripted method (a `raise`, an operator refusing
  // the values) as JITException or as a plain std::runtime_error carrying the TorchScript traceback.
  if (dynamic_cast<const torch::jit::JITException*>(&error)) return true;
  if (typeid(error) == typeid(std::runtime_error)) return not_cuda();
  return false;
}

// One row on its way through: its row of the results file and, while its item is good, its model input.
struct ItemProcessor::Prepared {
  std::size_t row = 0;
  const TaskRow* task_row = nullptr;
  torch::Tensor input;  // [C,H,W]
  InputGeometry geometry;
  ItemAnnotation annotation;  // class names resolved to the model's classes
};

ItemProcessor::ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options)
    : ItemProcessor(model, dataset, std::move(options), nullptr) {}

ItemProcessor::ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options,
                             std::unique_ptr<Task> task)
    : model_(model),
      dataset_(dataset),
      options_(std::move(options)),
      classes_(dataset.class_matcher(model.meta())),
      evaluator_(model, options_.metrics),
      task_(std::move(task)) {
  if (options_.target != "predicted" && options_.target != "label") {
    try {
      fixed_target_ = model_.meta().resolve_class(options_.target);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(e.what()) + "; target is predicted, label or one class, by index or label");
    }
  }
  if (target_is_label() && !dataset_.has_labels()) {
    throw ConfigError(
        "target = \"label\" needs image-level labels, which this dataset (kind '" + dataset_.kind() +
        "') does not have: VOC and COCO images hold objects of several classes, a list has labels "
        "only in its CSV's label column; use target = \"predicted\"");
  }
  if (options_.methods.empty()) throw ConfigError("methods: at least one CAM method is needed");
  if (model_.meta().channels != 3) {
    throw ConfigError("model " + model_.path() + ": " + std::to_string(model_.meta().channels) +
                      "-channel input; pixab reads images as RGB and needs channels = 3");
  }
  if (options_.batch_size < 1) throw ConfigError("batch_size must be at least 1");
  methods_ = make_cam_methods(options_.methods, options_.cams);
  needs_ = merged_needs(methods_);
  if (!task_) task_ = make_task(options_.task, model_, options_.task_settings);  // checked last, as it copies the model

  const std::vector<std::uint64_t> grid{static_cast<std::uint64_t>(model_.grid_height()),
                                        static_cast<std::uint64_t>(model_.grid_width())};
  std::vector<std::string> ids;
  for (const auto& method : methods_) {
    const std::string& id = ids.emplace_back(method->id());
    specs_.add({"maps/" + id, DType::kFloat32, grid});
    if (options_.store_weights && method->spec().channel_weights) {
      specs_.add({"weights/" + id, DType::kFloat32, {static_cast<std::uint64_t>(model_.feature_channels())}});
    }
    if (options_.store_pixab_maps) {
      for (const auto& name : method->spec().extra_maps) specs_.add({"pixab/" + id + "/" + name, DType::kFloat32, grid});
    }
    evaluator_.declare_arrays(id, specs_);
  }
  task_->declare_arrays(ids, specs_);
}

std::vector<TaskRow> ItemProcessor::rows_of(const std::vector<DatasetItem>& items) const {
  std::vector<TaskRow> rows;
  rows.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (auto& row : task_->rows_of(items[i])) {
      row.item_index = i;
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

void ItemProcessor::prepare(const TaskRow& row, ItemRecord& record, Prepared& p) const {
  const DatasetItem& item = row.item;
  try {
    DecodedImage image = dataset_.read_image(item);
    record.flags |= image.flags;
    record.width = image.rgb.cols;
    record.height = image.rgb.rows;
    p.annotation = classes_.resolve(dataset_.annotation(item), "annotation " + item.annotation_path);
    if (target_is_label() && p.annotation.label_class < 0) {
      throw ItemError(ItemStatus::kBadAnnotation,
                      p.annotation.label.empty()
                          ? "no image-level label for target = \"label\": " + item.annotation_path
                          : "label '" + p.annotation.label + "' is not a class of the model: " + item.annotation_path);
    }
    p.geometry = input_geometry(image.rgb.cols, image.rgb.rows, model_.meta());
    p.input = to_model_input(image.rgb, model_.meta());
  } catch (const ItemError& e) {
    record.status = e.status();
    record.message = e.what();
  } catch (const cv::Exception& e) {  // OpenCV failed on this image's data (e.g. resizing it)
    record.status = ItemStatus::kUnreadable;
    record.message = "cannot preprocess " + item.image_path + ": " + e.err;
  } catch (const c10::Error& e) {  // LibTorch refused this image's data while making the model input
    const std::string what = e.what_without_backtrace();
    record.status = ItemStatus::kUnreadable;
    record.message = "cannot preprocess " + item.image_path + ": " + what.substr(0, what.find('\n'));
  } catch (const std::bad_alloc&) {  // e.g. an extreme aspect ratio resized to a gigantic image
    record.status = ItemStatus::kTooLarge;
    record.message = "not enough memory to preprocess " + item.image_path;
  }
}

ProcessedItems ItemProcessor::process(const std::vector<TaskRow>& rows,
                                      const std::function<bool()>& keep_going) const {
  ProcessedItems out;
  RowArrays arrays(specs_, rows.size());
  out.records.resize(rows.size());
  for (std::size_t row = 0; row < rows.size(); ++row) {
    out.records[row].id = rows[row].id;
    out.records[row].source = rows[row].item.image_path;
  }

  // Items are read batch by batch, so that a stop request is seen before a whole chunk is decoded; a batch is
  // the next batch_size rows whose item is good. Within a batch, a model pass interrupted by the caller's
  // interruption check (io/interruption.hpp) drops the batch as a false keep_going would.
  const std::size_t batch_size = static_cast<std::size_t>(options_.batch_size);
  std::size_t next = 0;
  std::size_t last_read = std::numeric_limits<std::size_t>::max();  // the row whose item was read last
  Prepared last;
  ItemRecord last_record;  // what reading that item gave its row
  while (next < rows.size()) {
    if (keep_going && !keep_going()) {
      out.complete = false;
      break;
    }
    std::vector<Prepared> prepared;
    prepared.reserve(batch_size);
    while (prepared.size() < batch_size && next < rows.size()) {
      const std::size_t row = next++;
      ItemRecord& record = out.records[row];
      const bool same_item = last_read < rows.size() && rows[last_read].item.id == rows[row].item.id;
      if (same_item) {  // another row of the item just read: share its reading
        record.status = last_record.status;
        record.message = last_record.message;
        record.flags = last_record.flags;
        record.width = last_record.width;
        record.height = last_record.height;
      } else {
        last = Prepared{};
        prepare(rows[row], record, last);
        last_read = row;
        last_record = record;
      }
      if (record.status != ItemStatus::kOk) continue;
      Prepared& p = prepared.emplace_back(last);
      p.row = row;
      p.task_row = &rows[row];
    }
    if (prepared.empty()) continue;
    std::vector<Prepared*> batch;
    for (Prepared& p : prepared) batch.push_back(&p);
    try {
      run_batch_or_isolate(batch, out, arrays);
    } catch (const WorkInterrupted&) {
      out.complete = false;
      break;
    }
  }
  out.arrays = arrays.release();
  return out;
}

void ItemProcessor::run_batch_or_isolate(const std::vector<Prepared*>& batch, ProcessedItems& out,
                                         RowArrays& arrays) const {
  try {
    run_batch(batch, out, arrays);
  } catch (const std::exception& e) {
    if (!is_item_model_failure(e)) throw;
    if (batch.size() > 1) {
      // One bad input must not fail its neighbours: retry one by one to find it.
      for (Prepared* item : batch) run_batch_or_isolate({item}, out, arrays);
      return;
    }
    ItemRecord& record = out.records[batch.front()->row];
    record.status = ItemStatus::kModelError;
    const std::string what = e.what();
    record.message = "model error: " + what.substr(0, what.find('\n'));
  }
}

void ItemProcessor::run_batch(const std::vector<Prepared*>& batch, ProcessedItems& out, RowArrays& arrays) const {
  std::vector<torch::Tensor> inputs;
  std::vector<const TaskRow*> task_rows;
  for (const Prepared* p : batch) {
    inputs.push_back(p->input);
    task_rows.push_back(p->task_row);
  }
  TaskBatch prepared = task_->prepare_batch(task_rows, torch::stack(inputs).to(model_.device()));
  // The task's arrays cover every row; the rows it refuses keep its status and are not explained.
  std::vector<std::size_t> all_rows, explained_rows;
  std::vector<int64_t> explained;  // positions in the batch
  for (std::size_t b = 0; b < batch.size(); ++b) {
    all_rows.push_back(batch[b]->row);
    if (prepared.failures.empty() || !prepared.failures[b]) {
      explained.push_back(static_cast<int64_t>(b));
      explained_rows.push_back(batch[b]->row);
    }
  }
  const auto host = [](const torch::Tensor& t) { return t.defined() ? t.cpu() : t; };
  const torch::Tensor target_cpu = host(prepared.targets), clean_top1 = host(prepared.clean_top1),
                      clean_top1_prob = host(prepared.clean_top1_prob);
  ExplainedRows done;
  if (!explained.empty()) {
    const auto index = torch::tensor(explained, torch::kLong).to(model_.device());
    std::vector<const Prepared*> rows;
    std::vector<std::optional<std::vector<Box>>> regions;
    for (const int64_t b : explained) {
      rows.push_back(batch[static_cast<std::size_t>(b)]);
      if (!prepared.regions.empty()) regions.push_back(prepared.regions[static_cast<std::size_t>(b)]);
    }
    done = explain(rows, prepared.inputs.index_select(0, index),
                   prepared.targets.defined() ? prepared.targets.to(model_.device()).index_select(0, index)
                                              : torch::Tensor(),
                   regions);
  }

  // Only now that the whole batch has succeeded does anything reach the rows.
  for (const auto& [path, values] : prepared.arrays) arrays.write(path, all_rows, values);
  for (const auto& [path, values] : done.arrays) arrays.write(path, explained_rows, values);
  for (std::size_t e = 0; e < explained_rows.size(); ++e) {
    ItemRecord& record = out.records[explained_rows[e]];
    const ItemRecord& result = done.records[e];
    record.top1 = result.top1;
    record.top1_prob = result.top1_prob;
    record.target = result.target;
    record.target_prob = result.target_prob;
    record.flags |= result.flags;
    record.boxes = result.boxes;
  }
  // What the task knows of every row, refused ones included: the clean prediction, the target, the region.
  for (std::size_t b = 0; b < batch.size(); ++b) {
    ItemRecord& record = out.records[batch[b]->row];
    const auto i = static_cast<int64_t>(b);
    if (clean_top1.defined()) {
      record.top1 = static_cast<int32_t>(clean_top1[i].item<int64_t>());
      record.top1_prob = clean_top1_prob[i].item<float>();
    }
    if (prepared.failures.empty() || !prepared.failures[b]) continue;
    record.status = prepared.failures[b]->status;
    record.message = prepared.failures[b]->message;
    if (target_cpu.defined()) record.target = static_cast<int32_t>(target_cpu[i].item<int64_t>());
    if (!prepared.regions.empty() && prepared.regions[b]) record.boxes = *prepared.regions[b];
  }
}

ItemProcessor::ExplainedRows ItemProcessor::explain(const std::vector<const Prepared*>& batch, torch::Tensor inputs,
                                                    torch::Tensor targets,
                                                    const std::vector<std::optional<std::vector<Box>>>& regions) const {
  CamBatch cams(model_, std::move(inputs), needs_);
  const auto probabilities = torch::softmax(cams.logits(), 1);
  const auto [top1_prob, top1] = probabilities.max(1);
  if (targets.defined()) {
    cams.set_targets(targets);
  } else if (fixed_target_ >= 0) {
    cams.set_targets(torch::full({static_cast<int64_t>(batch.size())}, fixed_target_, torch::kLong));
  } else if (target_is_label()) {
    std::vector<int64_t> labels;
    for (const Prepared* p : batch) labels.push_back(p->annotation.label_class);
    cams.set_targets(torch::tensor(labels, torch::kLong));
  } else {
    cams.set_targets(top1);
  }
  const auto target_prob = probabilities.gather(1, cams.targets().unsqueeze(1)).squeeze(1);
  std::vector<std::string> item_ids;
  for (const Prepared* p : batch) item_ids.push_back(p->task_row->item.id);
  cams.set_item_ids(std::move(item_ids));

  // The target region: the task's, or the target class's boxes, mapped like the image; the localisation
  // metrics need it.
  BatchResults results;
  for (const Prepared* p : batch) results.rows.push_back(p->task_row);
  results.regions.resize(batch.size());
  const auto target_cpu = cams.targets().cpu();
  for (std::size_t b = 0; b < batch.size(); ++b) {
    if (!regions.empty() && regions[b]) {
      results.regions[b] = *regions[b];
      continue;
    }
    const auto target = target_cpu[static_cast<int64_t>(b)].item<int64_t>();
    for (const auto& object : batch[b]->annotation.objects) {
      if (object.model_class != target) continue;
      const Box box = map_box(object.box, batch[b]->geometry);
      if (box_contains_pixel_centre(box, model_.meta().input_width, model_.meta().input_height))
        results.regions[b].push_back(box);
    }
  }

  // Every result stays on the device until the whole batch has succeeded; then each goes to its rows.
  ExplainedRows out;
  torch::Tensor flags = torch::zeros({static_cast<int64_t>(batch.size())}, torch::kInt);
  for (const auto& method : methods_) {
    CamResult result = method->compute(cams);
    out.arrays.emplace_back("maps/" + method->id(), result.maps);
    results.maps.emplace_back(method->id(), result.maps);
    if (method->spec().channel_weights) {
      if (!result.weights.defined())
        throw std::logic_error("CAM method " + method->id() + " declares channel weights but gave none");
      results.weights.emplace_back(method->id(), result.weights);
      if (options_.store_weights) out.arrays.emplace_back("weights/" + method->id(), result.weights);
    }
    if (options_.store_pixab_maps) {
      for (const auto& [name, map] : result.extra_maps)
        out.arrays.emplace_back("pixab/" + method->id() + "/" + name, map);
    }
    if (result.flags.defined()) flags = flags | result.flags.to(torch::kCPU, torch::kInt);
  }
  for (auto& array : evaluator_.evaluate(cams, results.maps, results.regions)) out.arrays.push_back(std::move(array));
  for (auto& array : task_->batch_arrays(methods_, cams, results)) out.arrays.push_back(std::move(array));
  const auto top1_cpu = top1.cpu(), top1_prob_cpu = top1_prob.cpu(), target_prob_cpu = target_prob.cpu();

  out.records.resize(batch.size());
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto i = static_cast<int64_t>(b);
    ItemRecord& record = out.records[b];
    record.top1 = static_cast<int32_t>(top1_cpu[i].item<int64_t>());
    record.top1_prob = top1_prob_cpu[i].item<float>();
    record.target = static_cast<int32_t>(target_cpu[i].item<int64_t>());
    record.target_prob = target_prob_cpu[i].item<float>();
    record.flags = static_cast<std::uint32_t>(flags[i].item<int>());
    record.boxes = std::move(results.regions[b]);
  }
  return out;
}

}  // namespace pixab
