// The bench report as people read it (a Markdown table) and as scripts read it (JSON keyed by method id).
#include <fmt/format.h>

#include <cmath>
#include <sstream>
#include <utility>

#include "workers/bench/bench.hpp"

namespace pixab {
namespace {

std::string number_text(double value) { return fmt::format("{:g}", std::round(value * 100) / 100); }

// "130 (1 features, 129 head)": the total and its non-zero kinds.
std::string passes_text(const PassCounts& passes) {
  std::string kinds;
  for (const auto& [count, name] :
       {std::pair{passes.features, "features"}, std::pair{passes.head, "head"},
        std::pair{passes.forward, "forward"}, std::pair{passes.backward, "backward"}}) {
    if (count > 0) kinds += (kinds.empty() ? "" : ", ") + number_text(count) + " " + name;
  }
  return number_text(passes.total()) + " (" + kinds + ")";
}

}  // namespace

std::string bench_markdown(const BenchReport& report, const Model& model) {
  const ModelMeta& meta = model.meta();
  std::ostringstream out;
  out << fmt::format(
      "Model {} ({}): input {}x{}x{}, target layer {}x{}x{}, {} classes, on {}. {} images, batch size {}, {} "
      "thread(s), {} warm-up run(s); ms/image and limit ms are medians over the batches, per image; peak RSS "
      "is {}.\n\n",
      meta.name, model.path(), meta.channels, meta.input_height, meta.input_width, model.feature_channels(),
      model.grid_height(), model.grid_width(), meta.num_classes, model.device().str(), report.images,
      report.batch_size, report.threads, report.warmup,
      report.peak_rss_per_method ? "the process's peak during one run of the method (peak reset before it)"
                                 : "the process's peak so far (it could not be reset per method)");
  out << "| method | ms/image | limit ms | ratio | passes per image | peak RSS MiB |\n"
      << "|---|---:|---:|---:|---|---:|\n";
  auto write_row = [&](const BenchRow& row) {
    out << fmt::format("| {} | {:.3f} | {:.3f} | {:.2f} | {} | {:.0f} |\n", row.id, row.ms_per_image,
                       row.limit_ms, row.ratio(), passes_text(row.passes), row.peak_rss_mb);
  };
  for (const BenchRow& row : report.methods) write_row(row);
  write_row(report.whole_image);
  if (!report.whole_image_metrics.id.empty()) write_row(report.whole_image_metrics);
  if (!report.adversarial_attack.id.empty()) write_row(report.adversarial_attack);
  return out.str();
}

nlohmann::json bench_json(const BenchReport& report) {
  auto entry = [](const BenchRow& row) {
    return nlohmann::json{{"ms_per_image", row.ms_per_image},
                          {"limit_ms", row.limit_ms},
                          {"ratio", row.ratio()},
                          {"passes", row.passes.total()},
                          {"pass_breakdown",
                           {{"features", row.passes.features},
                            {"head", row.passes.head},
                            {"forward", row.passes.forward},
                            {"backward", row.passes.backward}}},
                          {"peak_rss_mb", row.peak_rss_mb},
                          {"base_rss_mb", row.base_rss_mb}};
  };
  nlohmann::json out = nlohmann::json::object();
  for (const BenchRow& row : report.methods) out[row.id] = entry(row);
  out[report.whole_image.id] = entry(report.whole_image);
  for (const BenchRow* row : {&report.whole_image_metrics, &report.adversarial_attack}) {
    if (!row->id.empty()) out[row->id] = entry(*row);
  }
  return out;
}

}  // namespace pixab
