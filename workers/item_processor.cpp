// Item processing: every image is read once, every batch goes through features once, and all methods share
// it.
#include "workers/item_processor.hpp"

#include <algorithm>
#include <limits>

#include <opencv2/core.hpp>

#include "io/error.hpp"
#include "io/image_reader.hpp"
#include "workers/preprocess.hpp"

namespace pixab {

// One item on its way through: its row of the results file and, while it is good, its model input.
struct ItemProcessor::Prepared {
  std::size_t row = 0;
  torch::Tensor input;  // [C,H,W]
  InputGeometry geometry;
  ItemAnnotation annotation;  // class names resolved to the model's classes
};

ItemProcessor::ItemProcessor(const Model& model, const Dataset& dataset, ProcessOptions options)
    : model_(model),
      dataset_(dataset),
      options_(std::move(options)),
      classes_(dataset.class_matcher(model.meta())),
      evaluator_(model, options_.metrics) {
  if (options_.target != "predicted" && options_.target != "label") {
    throw ConfigError("target '" + options_.target + "' is not supported (supported: predicted, label)");
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
  if (options_.task == "sanity") {
    sanity_ = std::make_unique<SanityCheck>(model_, options_.sanity_stages, options_.seed);
  } else if (options_.task != "natural") {
    throw ConfigError("task '" + options_.task + "' is not supported (supported: natural, sanity)");
  }
}

std::vector<std::string> ItemProcessor::sanity_stage_names() const {
  return sanity_ ? sanity_->stage_names() : std::vector<std::string>{};
}

std::map<std::string, std::vector<std::uint64_t>> ItemProcessor::array_layout() const {
  const std::vector<std::uint64_t> grid{static_cast<std::uint64_t>(model_.grid_height()),
                                        static_cast<std::uint64_t>(model_.grid_width())};
  std::map<std::string, std::vector<std::uint64_t>> layout;
  for (const auto& method : methods_) {
    layout["maps/" + method->id()] = grid;
    if (options_.store_weights && method->spec().channel_weights) {
      layout["weights/" + method->id()] = {static_cast<std::uint64_t>(model_.feature_channels())};
    }
    if (options_.store_pixab_maps) {
      for (const auto& name : method->spec().extra_maps) layout["pixab/" + method->id() + "/" + name] = grid;
    }
    evaluator_.add_layout(method->id(), layout);
    if (sanity_) sanity_->add_layout(method->id(), layout);
  }
  return layout;
}

ProcessedItems ItemProcessor::process(const std::vector<DatasetItem>& items,
                                      const std::function<bool()>& keep_going) const {
  ProcessedItems out;
  for (const auto& [path, row_shape] : array_layout()) {
    std::size_t row_size = 1;
    for (auto d : row_shape) row_size *= d;
    out.arrays[path] = {row_shape,
                        std::vector<float>(items.size() * row_size, std::numeric_limits<float>::quiet_NaN())};
  }
  out.records.resize(items.size());

  std::vector<Prepared> prepared;
  prepared.reserve(items.size());
  for (std::size_t row = 0; row < items.size(); ++row) {
    ItemRecord& record = out.records[row];
    record.id = items[row].id;
    record.source = items[row].image_path;
    try {
      DecodedImage image = dataset_.read_image(items[row]);
      record.flags |= image.flags;
      record.width = image.rgb.cols;
      record.height = image.rgb.rows;
      Prepared p;
      p.row = row;
      p.annotation =
          classes_.resolve(dataset_.annotation(items[row]), "annotation " + items[row].annotation_path);
      if (target_is_label() && p.annotation.label_class < 0) {
        throw ItemError(ItemStatus::kBadAnnotation,
                        p.annotation.label.empty()
                            ? "no image-level label for target = \"label\": " + items[row].annotation_path
                            : "label '" + p.annotation.label +
                                  "' is not a class of the model: " + items[row].annotation_path);
      }
      p.geometry = input_geometry(image.rgb.cols, image.rgb.rows, model_.meta());
      p.input = to_model_input(image.rgb, model_.meta());
      prepared.push_back(std::move(p));
    } catch (const ItemError& e) {
      record.status = e.status();
      record.message = e.what();
    } catch (const cv::Exception& e) {  // OpenCV failed on this image's data (e.g. resizing it)
      record.status = ItemStatus::kUnreadable;
      record.message = "cannot preprocess " + items[row].image_path + ": " + e.err;
    } catch (const std::bad_alloc&) {  // e.g. an extreme aspect ratio resized to a gigantic image
      record.status = ItemStatus::kTooLarge;
      record.message = "not enough memory to preprocess " + items[row].image_path;
    }
  }

  const std::size_t batch_size = static_cast<std::size_t>(options_.batch_size);
  for (std::size_t start = 0; start < prepared.size(); start += batch_size) {
    if (keep_going && !keep_going()) {
      out.complete = false;
      return out;
    }
    std::vector<Prepared*> batch;
    for (std::size_t i = start; i < std::min(prepared.size(), start + batch_size); ++i)
      batch.push_back(&prepared[i]);
    run_batch_or_isolate(batch, out);
  }
  return out;
}

void ItemProcessor::run_batch_or_isolate(const std::vector<Prepared*>& batch, ProcessedItems& out) const {
  try {
    run_batch(batch, out);
  } catch (const std::exception& e) {
    if (batch.size() > 1) {
      // One bad input must not fail its neighbours: retry one by one to find it.
      for (Prepared* item : batch) run_batch_or_isolate({item}, out);
      return;
    }
    ItemRecord& record = out.records[batch.front()->row];
    record.status = ItemStatus::kModelError;
    const std::string what = e.what();
    record.message = "model error: " + what.substr(0, what.find('\n'));
  }
}

void ItemProcessor::run_batch(const std::vector<Prepared*>& batch, ProcessedItems& out) const {
  std::vector<torch::Tensor> inputs;
  for (const Prepared* p : batch) inputs.push_back(p->input);
  CamBatch cams(model_, torch::stack(inputs).to(model_.device()), needs_);

  const auto probabilities = torch::softmax(cams.logits(), 1);
  const auto [top1_prob, top1] = probabilities.max(1);
  if (target_is_label()) {
    std::vector<int64_t> labels;
    for (const Prepared* p : batch) labels.push_back(p->annotation.label_class);
    cams.set_targets(torch::tensor(labels, torch::kLong));
  } else {
    cams.set_targets(top1);
  }
  const auto target_prob = probabilities.gather(1, cams.targets().unsqueeze(1)).squeeze(1);

  // The target class's boxes, mapped like the image; the localisation metrics need them.
  std::vector<std::vector<Box>> boxes(batch.size());
  const auto target_cpu = cams.targets().cpu();
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto target = target_cpu[static_cast<int64_t>(b)].item<int64_t>();
    for (const auto& object : batch[b]->annotation.objects) {
      if (object.model_class != target) continue;
      const Box box = map_box(object.box, batch[b]->geometry);
      if (box_contains_pixel_centre(box, model_.meta().input_width, model_.meta().input_height))
        boxes[b].push_back(box);
    }
  }

  // Every result stays on the device until the batch is complete; then one copy per array to the host.
  std::vector<std::pair<std::string, torch::Tensor>> rows;  // path -> [B, row shape...]
  std::vector<std::pair<std::string, torch::Tensor>> maps;  // method id -> L [B,h,w]
  torch::Tensor flags = torch::zeros({static_cast<int64_t>(batch.size())}, torch::kInt);
  for (const auto& method : methods_) {
    CamResult result = method->compute(cams);
    rows.emplace_back("maps/" + method->id(), result.maps);
    maps.emplace_back(method->id(), result.maps);
    if (options_.store_weights && result.weights.defined())
      rows.emplace_back("weights/" + method->id(), result.weights);
    if (options_.store_pixab_maps) {
      for (const auto& [name, map] : result.extra_maps)
        rows.emplace_back("pixab/" + method->id() + "/" + name, map);
    }
    if (result.flags.defined()) flags = flags | result.flags.to(torch::kCPU, torch::kInt);
  }
  for (auto& row : evaluator_.evaluate(cams, maps, boxes)) rows.push_back(std::move(row));
  if (sanity_) {
    for (auto& row : sanity_->evaluate(methods_, cams, maps)) rows.push_back(std::move(row));
  }
  const auto top1_cpu = top1.cpu(), top1_prob_cpu = top1_prob.cpu(), target_prob_cpu = target_prob.cpu();

  for (const auto& [path, tensor] : rows) {
    const auto host = tensor.to(torch::kCPU, torch::kFloat).contiguous();
    ItemArrays& array = out.arrays.at(path);
    const std::size_t row_size = static_cast<std::size_t>(host[0].numel());
    for (std::size_t b = 0; b < batch.size(); ++b) {
      std::copy_n(host[static_cast<int64_t>(b)].data_ptr<float>(), row_size,
                  array.values.begin() + batch[b]->row * row_size);
    }
  }
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto i = static_cast<int64_t>(b);
    ItemRecord& record = out.records[batch[b]->row];
    record.top1 = static_cast<int32_t>(top1_cpu[i].item<int64_t>());
    record.top1_prob = top1_prob_cpu[i].item<float>();
    record.target = static_cast<int32_t>(target_cpu[i].item<int64_t>());
    record.target_prob = target_prob_cpu[i].item<float>();
    record.flags |= static_cast<std::uint32_t>(flags[i].item<int>());
    record.boxes = std::move(boxes[b]);
  }
}

}  // namespace pixab
