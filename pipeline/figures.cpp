// `pixab explain` (one image's CAMs, computed now) and `pixab render` (items of a results file, maps read
// back): both draw the same figure row (workers/figure.hpp) and write it as PNG.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/error.hpp"
#include "io/image_reader.hpp"
#include "io/item_status.hpp"
#include "io/model.hpp"
#include "io/model_meta.hpp"
#include "io/results_file.hpp"
#include "pipeline/command.hpp"
#include "pipeline/run.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/figure.hpp"
#include "workers/preprocess.hpp"

namespace pixab {

namespace {

// A method's map for one image: its id and the h x w map (CV_32FC1, owning its data).
using MethodMap = std::pair<std::string, cv::Mat>;

// The one place that turns an explanation into a figure, so that `explain` and `render` draw identical rows.
void write_explanation_figure(const std::string& path, const cv::Mat& input_rgb,
                              const std::string& input_name, const std::string& class_name,
                              double probability, const std::vector<MethodMap>& maps) {
  const std::string caption = target_caption(class_name, probability);
  std::vector<FigurePanel> panels;
  for (const auto& [method, map] : maps) panels.push_back({{method, caption}, map});
  write_figure_png(path, draw_figure_row(input_rgb, {"input", input_name}, panels));
}

// ---- explain

struct ExplainOptions {
  std::string model, image, target, device = "cpu", out;
  std::vector<std::string> methods;  // empty: every implemented method
};

// A class given by name (label or wnid) or by index; ConfigError when the model has no such class.
int resolve_target(const std::string& text, const ModelMeta& meta) {
  const int by_name = meta.class_index(text);
  if (by_name >= 0) return by_name;
  std::size_t used = 0;
  int index = -1;
  try {
    index = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == text.size() && index >= 0 && index < meta.num_classes) return index;
  // A long label list (ImageNet's thousand) would drown the message; short ones help the user pick.
  const std::string labels = !meta.labels.empty() && meta.labels.size() <= 20
                                 ? fmt::format(" or a label: {}", fmt::join(meta.labels, ", "))
                                 : std::string(meta.labels.empty() ? "" : " or a label of the model");
  throw ConfigError(fmt::format("target '{}': not a class of model {} (expected a class index 0..{}{})", text,
                                meta.name, meta.num_classes - 1, labels));
}

cv::Mat map_to_mat(const torch::Tensor& map) {
  const torch::Tensor host = map.to(torch::kCPU, torch::kFloat).contiguous();
  return cv::Mat(static_cast<int>(host.size(0)), static_cast<int>(host.size(1)), CV_32FC1,
                 host.data_ptr<float>())
      .clone();
}

int explain(const ExplainOptions& options) {
  // The image first: a wrong path is reported before the slower model load and contract check.
  const DecodedImage image = read_image_rgb8(options.image);
  const torch::Device device = parse_device(options.device);
  const Model model = Model::load(options.model, device);
  const auto methods =
      make_cam_methods(options.methods.empty() ? implemented_cam_methods() : options.methods);
  const bool need_gradients = any_needs_gradients(methods);

  CamBatch batch(model, to_model_input(image.rgb, model.meta()).unsqueeze(0).to(device), need_gradients);
  const torch::Tensor probabilities = torch::softmax(batch.logits(), 1)[0];
  const int target = options.target.empty() ? static_cast<int>(probabilities.argmax().item<int64_t>())
                                            : resolve_target(options.target, model.meta());
  batch.set_targets(torch::full({1}, target, torch::kLong));
  const double probability = probabilities[target].item<double>();

  std::vector<MethodMap> maps;
  for (const auto& method : methods)
    maps.emplace_back(method->id(), map_to_mat(method->compute(batch).maps[0]));
  const std::string class_name = model.meta().class_name(target);
  write_explanation_figure(options.out, resize_to_input(image.rgb, model.meta()),
                           std::filesystem::path(options.image).filename().string(), class_name, probability,
                           maps);
  spdlog::info("wrote {}: target {} (p = {:.4f}), methods {}", options.out, class_name, probability,
               fmt::join(options.methods.empty() ? implemented_cam_methods() : options.methods, ", "));
  return kExitOk;
}

// ---- render

struct RenderOptions {
  std::string results, out;
  int items = 8;  // 0: every ok item
};

// The methods whose maps the file holds, in the order the run listed them (its `methods` attribute); maps the
// attribute does not name follow in path order.
std::vector<std::string> methods_in_file_order(const ResultsData& data) {
  std::vector<std::string> listed, methods;
  if (const auto it = data.text_attributes.find("methods"); it != data.text_attributes.end()) {
    std::istringstream text(it->second);
    for (std::string id; std::getline(text, id, ',');) listed.push_back(id);
  }
  for (const auto& id : listed) {
    if (data.arrays.count("maps/" + id) && std::count(methods.begin(), methods.end(), id) == 0)
      methods.push_back(id);
  }
  for (const auto& [path, array] : data.arrays) {
    if (path.rfind("maps/", 0) != 0) continue;
    const std::string id = path.substr(5);
    if (std::count(methods.begin(), methods.end(), id) == 0) methods.push_back(id);
  }
  return methods;
}

// The file name of an item's figure: its id (an image path relative to the dataset root) without the image's
// extension, with folders flattened so that every figure lands in `out`.
std::string figure_file_name(const std::string& item_id) {
  std::string name = std::filesystem::path(item_id).replace_extension().generic_string();
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".png";
}

int render(const RenderOptions& options) {
  const ResultsData data = read_results_file(options.results);
  const auto meta_text = data.text_attributes.find("model_meta");
  if (meta_text == data.text_attributes.end()) {
    throw IoError("results " + options.results + ": no model_meta attribute (not written by pixab run)");
  }
  const ModelMeta meta = parse_model_meta(meta_text->second, options.results + " (model_meta)");
  const std::vector<std::string> methods = methods_in_file_order(data);
  if (methods.empty()) throw IoError("results " + options.results + ": no maps to draw");
  for (const auto& id : methods) {
    const auto& shape = data.arrays.at("maps/" + id).shape;
    if (shape.size() != 3 || shape[0] != data.items.size()) {
      throw IoError("results " + options.results + ": maps/" + id + " is not an [items, h, w] array");
    }
  }

  std::size_t selected = 0, written = 0;
  for (std::size_t row = 0; row < data.items.size(); ++row) {
    const ItemRecord& item = data.items[row];
    if (item.status != ItemStatus::kOk) continue;
    if (options.items > 0 && selected == static_cast<std::size_t>(options.items)) break;
    ++selected;
    cv::Mat input_rgb;
    try {
      input_rgb = resize_to_input(read_image_rgb8(item.source).rgb, meta);
    } catch (const ItemError& e) {  // a figure needs the image; the others can still be drawn
      spdlog::warn("item {}: skipped, {}", item.id, e.what());
      continue;
    }
    std::vector<MethodMap> maps;
    for (const auto& id : methods) {
      const FloatArray& array = data.arrays.at("maps/" + id);
      const int height = static_cast<int>(array.shape[1]), width = static_cast<int>(array.shape[2]);
      const float* values = array.values.data() + row * array.shape[1] * array.shape[2];
      maps.emplace_back(id, cv::Mat(height, width, CV_32FC1, const_cast<float*>(values)).clone());
    }
    const std::string path = (std::filesystem::path(options.out) / figure_file_name(item.id)).string();
    write_explanation_figure(path, input_rgb, item.id, meta.class_name(item.target), item.target_prob, maps);
    ++written;
  }
  spdlog::info("wrote {} figure(s) to {} ({} of {} items selected, methods {})", written, options.out,
               selected, data.items.size(), fmt::join(methods, ", "));
  return kExitOk;
}

}  // namespace

Command add_explain_command(CLI::App& app) {
  auto options = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "draw the CAMs of one image as a figure (PNG)");
  cmd->add_option("--model", options->model, "model file (TorchScript)")->required();
  cmd->add_option("--image", options->image, "image file")->required();
  cmd->add_option("--target", options->target, "class to explain: index or label (default: the top-1 class)");
  cmd->add_option("--methods", options->methods, "CAM methods, comma separated (default: all implemented)")
      ->delimiter(',');
  cmd->add_option("--device", options->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--out", options->out, "PNG file to write")->required();
  return {cmd, [options] { return explain(*options); }};
}

Command add_render_command(CLI::App& app) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand("render", "draw figures (PNG) of the items of a results file");
  cmd->add_option("results", options->results, "results file (HDF5)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->out, "folder for the figures, one <item id>.png per item")->required();
  cmd->add_option("--items", options->items, "the first N ok items (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return {cmd, [options] { return render(*options); }};
}

}  // namespace pixab
