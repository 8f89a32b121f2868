// `pixab explain` (one image's CAMs, computed now) and `pixab render` (a results file read back: figure rows,
// sanity grids, deletion / insertion curve plots): both draw the same figure row (workers/figure.hpp) as PNG.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
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
#include "pipeline/results_view.hpp"
#include "pipeline/run.hpp"
#include "workers/cams/cam_method.hpp"
#include "workers/figure.hpp"
#include "workers/metrics/faithfulness.hpp"
#include "workers/preprocess.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

namespace {

// A method's map for one image: its id and the h x w map (CV_32FC1, owning its data).
using MethodMap = std::pair<std::string, cv::Mat>;

// The one place that turns an explanation into panels, so that `explain`, `render` and the first row of a
// sanity grid draw identical rows.
std::vector<FigurePanel> explanation_panels(const std::string& class_name, double probability,
                                            const std::vector<MethodMap>& maps) {
  const std::string caption = target_caption(class_name, probability);
  std::vector<FigurePanel> panels;
  for (const auto& [method, map] : maps) panels.push_back({{method, caption}, map});
  return panels;
}

// `input_outlines`: boxes outlined on the input panel (an adversarial example's patches).
void write_explanation_figure(const std::string& path, const cv::Mat& input_rgb,
                              const std::string& input_name, const std::string& class_name,
                              double probability, const std::vector<MethodMap>& maps,
                              const std::vector<FigureOutline>& input_outlines = {}) {
  write_figure_png(path, draw_figure_row(input_rgb, {"input", input_name},
                                         explanation_panels(class_name, probability, maps), input_outlines));
}

// ---- explain

struct ExplainOptions {
  std::string model, image, target, device = "cpu", out;
  std::vector<std::string> methods;  // ids or groups; empty: the "all" group
};

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
  const std::vector<std::string> method_ids = resolve_cam_method_names(options.methods);
  const auto methods = make_cam_methods(method_ids);
  const std::string image_name = std::filesystem::path(options.image).filename().string();
  CamBatch batch(model, to_model_input(image.rgb, model.meta()).unsqueeze(0).to(device),
                 merged_needs(methods));
  batch.set_item_ids({image_name});
  const torch::Tensor probabilities = torch::softmax(batch.logits(), 1)[0];
  const int target = options.target.empty() ? static_cast<int>(probabilities.argmax().item<int64_t>())
                                            : model.meta().resolve_class(options.target);
  batch.set_targets(torch::full({1}, target, torch::kLong));
  const double probability = probabilities[target].item<double>();

  std::vector<MethodMap> maps;
  for (const auto& method : methods)
    maps.emplace_back(method->id(), map_to_mat(method->compute(batch).maps[0]));
  const std::string class_name = model.meta().class_name(target);
  write_explanation_figure(options.out, resize_to_input(image.rgb, model.meta()),
                           image_name, class_name, probability, maps);
  spdlog::info("wrote {}: target {} (p = {:.4f}), methods {}", options.out, class_name, probability,
               fmt::join(method_ids, ", "));
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
  std::vector<std::string> methods;
  for (const auto& id : split_list(text_attribute(data, "methods"))) {
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

// The file name of a row's figure: its id (an image path relative to the dataset root, "#t<k>" appended for
// the k-th row of an item) without the image's extension, with folders flattened so that every figure lands
// in `out` ("JPEGImages/x.jpg#t1" gives "JPEGImages_x_t1.png").
std::string figure_file_name(const std::string& item_id) {
  // Only a trailing "#t<digits>" is a row suffix; a '#' elsewhere belongs to the file's name.
  std::size_t row_suffix = item_id.rfind("#t");
  if (row_suffix == std::string::npos || row_suffix + 2 == item_id.size() ||
      item_id.find_first_not_of("0123456789", row_suffix + 2) != std::string::npos)
    row_suffix = std::string::npos;
  std::string name =
      std::filesystem::path(item_id.substr(0, row_suffix)).replace_extension().generic_string();
  if (row_suffix != std::string::npos) name += "_" + item_id.substr(row_suffix + 1);
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".png";
}

// The array at `path`, checked to be `expected` (e.g. "[items, h, w]"): of `dtype`, `rank` dimensions, the
// first one per item, the others at least `min_extent`. IoError naming the file and the path otherwise, or
// when the file has no such array.
const TypedArray& per_item_array(const ResultsData& data, const std::string& file, const std::string& path,
                                 std::size_t rank, std::uint64_t min_extent, const std::string& expected,
                                 DType dtype = DType::kFloat32) {
  const auto found = data.arrays.find(path);
  if (found == data.arrays.end()) throw IoError("results " + file + ": no " + path + " array");
  const TypedArray& array = found->second;
  const auto& shape = array.shape;
  const bool fits =
      array.dtype() == dtype && shape.size() == rank && shape[0] == data.items.size() &&
      std::all_of(shape.begin() + 1, shape.end(), [&](std::uint64_t n) { return n >= min_extent; });
  if (!fits) {
    throw IoError("results " + file + ": " + path + " is not an " + expected + " array" +
                  (array.dtype() == dtype ? "" : std::string(" of ") + dtype_name(dtype)));
  }
  return array;
}

// Map number `index` of an array whose last two dimensions are a map's h x w (maps/<method> [N,h,w]: the
// item's row; sanity/<method>/maps [N,S,h,w]: row * S + stage), as an owning CV_32FC1 matrix.
cv::Mat map_at(const TypedArray& array, std::size_t index) {
  const std::size_t rank = array.shape.size();
  const int height = static_cast<int>(array.shape[rank - 2]), width = static_cast<int>(array.shape[rank - 1]);
  const float* values = array.floats().data() + index * array.shape[rank - 2] * array.shape[rank - 1];
  return cv::Mat(height, width, CV_32FC1, const_cast<float*>(values)).clone();
}

std::vector<bool> ok_items(const ResultsData& data) {
  std::vector<bool> ok;
  for (const ItemRecord& item : data.items) ok.push_back(item.status == ItemStatus::kOk);
  return ok;
}

// ---- render: curve plots

struct CurveKind {
  std::string name;  // curves/<method>/<name>, metrics/<method>/<name>_auc, curves_<name>.png
  std::string title, x_label;
};
const std::array<CurveKind, 2> kCurveKinds{{
    {"deletion", "Deletion (lower is better)", "fraction of pixels deleted (t / steps)"},
    {"insertion", "Insertion (higher is better)", "fraction of pixels inserted (t / steps)"},
}};

// The mean of the finite values of a per-item metric over `rows`; NaN when none is finite.
double mean_over_rows(const TypedArray& metric, const std::vector<std::size_t>& rows) {
  const std::vector<float>& values = metric.floats();
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t row : rows) {
    if (!std::isfinite(values[row])) continue;
    sum += values[row];
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

// The plot of one curve kind over every ok item of the file (not only the rendered ones: the plot summarises
// the run, like the report's AUC); nothing when no method has such curves.
std::optional<CurvePlot> curve_plot(const ResultsData& data, const std::string& file,
                                    const std::vector<std::string>& methods, const CurveKind& kind) {
  const std::vector<bool> item_ok = ok_items(data);
  CurvePlot plot{kind.title, kind.x_label, "mean p_c of the target class", {}};
  std::vector<std::size_t> counts;
  for (const auto& method : methods) {
    const std::string path = "curves/" + method + "/" + kind.name;
    if (!data.arrays.count(path)) continue;
    const TypedArray& curves = per_item_array(data, file, path, 2, 2, "[items, steps+1]");
    const MeanCurve mean = mean_curve(curves.floats(), curves.shape[1], item_ok);
    double auc = std::numeric_limits<double>::quiet_NaN();
    if (const std::string auc_path = "metrics/" + method + "/" + kind.name + "_auc";
        data.arrays.count(auc_path))
      auc = mean_over_rows(per_item_array(data, file, auc_path, 1, 1, "[items]"), mean.rows);
    if (!std::isfinite(auc) && !mean.mean.empty()) {
      // The metric's own trapezoid rule; the mean of the items' AUCs is the AUC of their mean curve.
      auc = trapezoid_auc(torch::tensor(mean.mean, torch::kDouble).view({1, -1})).item<double>();
    }
    plot.series.push_back({method, mean.mean, auc});
    counts.push_back(mean.rows.size());
  }
  if (plot.series.empty()) return std::nullopt;
  // Methods normally share their items; one that lost some (a non-finite curve) says so in the legend.
  const std::size_t most = *std::max_element(counts.begin(), counts.end());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] != most) plot.series[i].label += fmt::format(" (n={})", counts[i]);
  }
  plot.title += fmt::format(", {} items", most);
  return plot;
}

// ---- render: sanity grids

// What the sanity grids need from a sanity-task file, checked before anything is drawn.
struct SanityArrays {
  std::vector<std::string> methods;  // those with stage maps, in file order
  std::vector<std::string> stages;   // stage 1 (randomised first) first
};

SanityArrays sanity_arrays(const ResultsData& data, const std::string& file,
                           const std::vector<std::string>& methods) {
  SanityArrays sanity;
  std::uint64_t stages = 0;
  for (const auto& method : methods) {
    const std::string path = "sanity/" + method + "/maps";
    if (!data.arrays.count(path)) continue;
    const TypedArray& maps = per_item_array(data, file, path, 4, 1, "[items, stages, h, w]");
    if (stages != 0 && maps.shape[1] != stages) {
      throw IoError(fmt::format("results {}: {} has {} stages, the other methods {}", file, path,
                                maps.shape[1], stages));
    }
    stages = maps.shape[1];
    for (const char* score : {"spearman", "ssim"}) {
      const std::string score_path = "sanity/" + method + "/" + score;
      if (!data.arrays.count(score_path)) continue;
      if (per_item_array(data, file, score_path, 2, 1, "[items, stages]").shape[1] != stages)
        throw IoError(
            fmt::format("results {}: {} does not have the maps' {} stages", file, score_path, stages));
    }
    sanity.methods.push_back(method);
  }
  if (sanity.methods.empty()) throw IoError("results " + file + ": task sanity, but no sanity/<method>/maps");
  sanity.stages = sanity_stage_names(data, file, stages);
  return sanity;
}

// A stage cell's caption: how similar the map still is to the original one ("rho 0.42 ssim 0.61").
std::string sanity_caption(const ResultsData& data, const std::string& method, std::size_t row,
                           std::size_t stage) {
  std::vector<std::string> parts;
  for (const auto& [score, name] : {std::pair{"spearman", "rho"}, std::pair{"ssim", "ssim"}}) {
    const auto it = data.arrays.find("sanity/" + method + "/" + score);
    if (it == data.arrays.end()) continue;
    parts.push_back(fmt::format("{} {:.2f}", name, it->second.floats()[row * it->second.shape[1] + stage]));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

// The paper's Figure 11 for one item: the original maps, then the maps after each cumulative randomisation
// stage, one column per method.
std::vector<FigureGridRow> sanity_grid(const ResultsData& data, const SanityArrays& sanity, std::size_t row,
                                       const ModelMeta& meta) {
  const ItemRecord& item = data.items[row];
  std::vector<MethodMap> original;
  for (const auto& method : sanity.methods)
    original.emplace_back(method, map_at(data.arrays.at("maps/" + method), row));
  std::vector<FigureGridRow> grid{
      {{"original", item.id}, explanation_panels(meta.class_name(item.target), item.target_prob, original)}};
  const std::size_t stages = sanity.stages.size();
  for (std::size_t stage = 0; stage < stages; ++stage) {
    FigureGridRow& stage_row = grid.emplace_back(
        FigureGridRow{{"+ " + sanity.stages[stage], fmt::format("stage {} of {}", stage + 1, stages)}, {}});
    for (const auto& method : sanity.methods) {
      stage_row.panels.push_back(
          {{method, sanity_caption(data, method, row, stage)},
           map_at(data.arrays.at("sanity/" + method + "/maps"), row * stages + stage)});
    }
  }
  return grid;
}

// ---- render: adversarial examples (dap1, dap2)

// What an adversarial file's input panels are drawn from: the examples (uint8 [examples, h, w, 3], the rows
// of one AE2 sharing theirs) and, per row, its example, its patches, and which of them is its region.
const std::array<std::string, 5> kAdversarialArrays{"adversarial/image", "adversarial/image_index",
                                                    "adversarial/patches", "adversarial/patch_count",
                                                    "adversarial/region"};

// Checks those arrays before anything is drawn: their shapes, and for every ok row its example, patch count
// and region within range and its patches finite. Rows that failed (attack_failed) are not drawn, so their
// fill values are not checked.
void check_adversarial_arrays(const ResultsData& data, const std::string& file) {
  const auto images = data.arrays.find("adversarial/image");
  if (images == data.arrays.end()) throw IoError("results " + file + ": no adversarial/image array");
  const std::vector<std::uint64_t>& image_shape = images->second.shape;
  if (images->second.dtype() != DType::kUInt8 || image_shape.size() != 4 ||
      std::count(image_shape.begin(), image_shape.end(), std::uint64_t{0}) > 0 || image_shape[3] != 3)
    throw IoError("results " + file + ": adversarial/image is not a uint8 [examples, h, w, 3] array");
  const TypedArray& patches = per_item_array(data, file, "adversarial/patches", 3, 0, "[items, patches, 4]");
  if (patches.shape[2] != 4)
    throw IoError("results " + file + ": adversarial/patches is not an [items, patches, 4] array");
  const auto& example = per_item_array(data, file, "adversarial/image_index", 1, 1, "[items]", DType::kInt32)
                            .as<std::int32_t>();
  const auto& count = per_item_array(data, file, "adversarial/patch_count", 1, 1, "[items]", DType::kInt32)
                          .as<std::int32_t>();
  const auto& region =
      per_item_array(data, file, "adversarial/region", 1, 1, "[items]", DType::kInt32).as<std::int32_t>();
  const std::int64_t examples = static_cast<std::int64_t>(image_shape[0]);
  const std::int64_t capacity = static_cast<std::int64_t>(patches.shape[1]);
  for (std::size_t row = 0; row < data.items.size(); ++row) {
    if (data.items[row].status != ItemStatus::kOk) continue;
    const auto refuse = [&](const char* path, const std::string& why) {
      throw IoError(
          fmt::format("results {}: {} of row {} ({}) {}", file, path, row, data.items[row].id, why));
    };
    if (example[row] < 0 || example[row] >= examples)
      refuse("adversarial/image_index",
             fmt::format("is {}, not an example 0..{}", example[row], examples - 1));
    if (count[row] < 0 || count[row] > capacity)
      refuse("adversarial/patch_count", fmt::format("is {}, not 0..{}", count[row], capacity));
    if (region[row] < -1 || region[row] >= count[row])
      refuse("adversarial/region",
             fmt::format("is {}, not -1 (every patch) or a patch 0..{}", region[row], count[row] - 1));
    const float* boxes = patches.floats().data() + row * patches.row_size();
    if (!std::all_of(boxes, boxes + 4 * count[row], [](float v) { return std::isfinite(v); }))
      refuse("adversarial/patches", "has a patch that is not finite");
  }
}

// A row's adversarial example: RGB at the model's input size, as the model saw it.
cv::Mat adversarial_example(const ResultsData& data, std::size_t row) {
  const TypedArray& images = data.arrays.at("adversarial/image");
  const std::size_t example = data.arrays.at("adversarial/image_index").as<std::int32_t>()[row];
  const std::uint8_t* pixels = images.as<std::uint8_t>().data() + example * images.row_size();
  return cv::Mat(static_cast<int>(images.shape[1]), static_cast<int>(images.shape[2]), CV_8UC3,
                 const_cast<std::uint8_t*>(pixels))
      .clone();
}

// A row's patches as outlines: its region in the target colour (every patch for region -1, dap1's union),
// the example's other patches in the other colour.
std::vector<FigureOutline> patch_outlines(const ResultsData& data, std::size_t row) {
  const TypedArray& patches = data.arrays.at("adversarial/patches");
  const int count = data.arrays.at("adversarial/patch_count").as<std::int32_t>()[row];
  const int region = data.arrays.at("adversarial/region").as<std::int32_t>()[row];
  const float* box = patches.floats().data() + row * patches.row_size();
  std::vector<FigureOutline> outlines;
  for (int k = 0; k < count; ++k, box += 4) {
    outlines.push_back({box[0], box[1], box[2], box[3],
                        region < 0 || region == k ? kTargetPatchOutline : kOtherPatchOutline});
  }
  return outlines;
}

// ---- render

// The arrays render draws or prints, for every method with maps: its maps, its deletion / insertion curves
// and their AUC metrics, its sanity maps and scores; an adversarial file's examples and patches. The others
// (other metrics, weights) are not read.
ArraySelection rendered_arrays(const std::string& file) {
  std::vector<std::string> paths(kAdversarialArrays.begin(), kAdversarialArrays.end());
  for (const auto& [path, layout] : read_results_layout(file)) {
    if (path.rfind("maps/", 0) != 0) continue;
    const std::string method = path.substr(5);
    paths.push_back(path);
    for (const CurveKind& kind : kCurveKinds) {
      paths.push_back("curves/" + method + "/" + kind.name);
      paths.push_back("metrics/" + method + "/" + kind.name + "_auc");
    }
    for (const char* sanity : {"maps", "spearman", "ssim"}) paths.push_back("sanity/" + method + "/" + sanity);
  }
  return ArraySelection::paths(std::move(paths));
}

int render(const RenderOptions& options) {
  const ResultsData data = read_results_file(options.results, rendered_arrays(options.results));
  const auto meta_text = data.text_attributes.find("model_meta");
  if (meta_text == data.text_attributes.end()) {
    throw IoError("results " + options.results + ": no model_meta attribute (not written by pixab run)");
  }
  const ModelMeta meta = parse_model_meta(meta_text->second, options.results + " (model_meta)");
  const std::vector<std::string> methods = methods_in_file_order(data);
  if (methods.empty()) throw IoError("results " + options.results + ": no maps to draw");
  for (const auto& id : methods) per_item_array(data, options.results, "maps/" + id, 3, 1, "[items, h, w]");
  // Every array is checked before the first figure is written, so that a bad file leaves no partial output.
  std::vector<std::pair<std::string, CurvePlot>> curve_plots;
  for (const CurveKind& kind : kCurveKinds) {
    if (auto plot = curve_plot(data, options.results, methods, kind))
      curve_plots.emplace_back("curves_" + kind.name + ".png", std::move(*plot));
  }
  // A sanity grid's first row is the item's explanation figure, so sanity files get only the grids.
  const TaskInfo* task = find_task(text_attribute(data, "task"));
  const bool sanity_task = task && task->report == TaskReport::kSanity;
  const SanityArrays sanity = sanity_task ? sanity_arrays(data, options.results, methods) : SanityArrays{};
  // An adversarial file's first panel is its example, with the patches, not the source image.
  const bool adversarial_task = task && task->report == TaskReport::kAdversarial;
  if (adversarial_task) check_adversarial_arrays(data, options.results);

  const std::filesystem::path out(options.out);
  for (const auto& [name, plot] : curve_plots) write_figure_png((out / name).string(), draw_curve_plot(plot));
  std::size_t selected = 0, written = 0, sanity_written = 0;
  for (std::size_t row = 0; row < data.items.size(); ++row) {
    const ItemRecord& item = data.items[row];
    if (item.status != ItemStatus::kOk) continue;
    if (options.items > 0 && selected == static_cast<std::size_t>(options.items)) break;
    ++selected;
    cv::Mat input_rgb;
    std::vector<FigureOutline> outlines;
    if (adversarial_task) {
      input_rgb = adversarial_example(data, row);
      outlines = patch_outlines(data, row);
    } else {
      try {
        input_rgb = resize_to_input(read_image_rgb8(item.source).rgb, meta);
      } catch (const ItemError& e) {  // a figure needs the image; the others can still be drawn
        spdlog::warn("item {}: skipped, {}", item.id, e.what());
        continue;
      }
    }
    if (sanity_task) {
      write_figure_png((out / ("sanity_" + figure_file_name(item.id))).string(),
                       draw_figure_grid(input_rgb, sanity_grid(data, sanity, row, meta)));
      ++sanity_written;
      continue;
    }
    std::vector<MethodMap> maps;
    for (const auto& id : methods) maps.emplace_back(id, map_at(data.arrays.at("maps/" + id), row));
    write_explanation_figure((out / figure_file_name(item.id)).string(), input_rgb, item.id,
                             meta.class_name(item.target), item.target_prob, maps, outlines);
    ++written;
  }
  spdlog::info(
      "wrote {} figure(s) to {} ({} of {} items selected, methods {}), {} curve plot(s), {} sanity "
      "figure(s)",
      written, options.out, selected, data.items.size(), fmt::join(methods, ", "), curve_plots.size(),
      sanity_written);
  return kExitOk;
}

}  // namespace

Command add_explain_command(CLI::App& app) {
  auto options = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand("explain", "draw the CAMs of one image as a figure (PNG)");
  cmd->add_option("--model", options->model, "model file (TorchScript)")->required();
  cmd->add_option("--image", options->image, "image file")->required();
  cmd->add_option("--target", options->target, "class to explain: index or label (default: the top-1 class)");
  cmd->add_option("--methods", options->methods,
                  "CAM methods or groups (all, every, extra), comma separated (default: all)")
      ->delimiter(',');
  cmd->add_option("--device", options->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--out", options->out, "PNG file to write")->required();
  return {cmd, [options] { return explain(*options); }};
}

Command add_render_command(CLI::App& app) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand(
      "render",
      "draw figures (PNG) of the items of a results file, sanity grids and deletion / insertion curves");
  cmd->add_option("results", options->results, "results file (HDF5)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", options->out,
                  "folder for the figures: <item id>.png (sanity files: sanity_<item id>.png) per item, "
                  "curves_deletion.png and curves_insertion.png")
      ->required();
  cmd->add_option("--items", options->items, "figures of the first N ok items (0: all); curve plots use all")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return {cmd, [options] { return render(*options); }};
}

}  // namespace pixab
