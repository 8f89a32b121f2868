// Explanation figures (paper's Figure 8): the input, then each method's map as a jet overlay, panels titled.
#include "workers/figure.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "io/error.hpp"

namespace pixab {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kMinFontScale = 0.3;  // smaller Hershey text is no longer legible
const cv::Scalar kWhite(255, 255, 255), kBlack(0, 0, 0), kNoMapGrey(128, 128, 128);

// The whole factor by which the input is enlarged: whole, so that every input pixel becomes an equal square.
int enlargement(cv::Size input_size, const FigureLayout& layout) {
  const int shorter = std::max(1, std::min(input_size.width, input_size.height));
  return std::max(1, (layout.min_panel_size + shorter - 1) / shorter);
}

// The map (h x w, [0,1]) upsampled to the input, coloured and blended over it; BGR like `input_bgr`.
cv::Mat overlay(const cv::Mat& input_bgr, const cv::Mat& map, double map_weight) {
  cv::Mat upsampled, map8, coloured, blended;
  cv::resize(map, upsampled, input_bgr.size(), 0, 0, cv::INTER_LINEAR);
  upsampled.convertTo(map8, CV_8U, 255.0);  // saturating: values outside [0,1] are clamped, not wrapped
  cv::applyColorMap(map8, coloured, cv::COLORMAP_JET);
  cv::addWeighted(coloured, map_weight, input_bgr, 1.0 - map_weight, 0.0, blended);
  return blended;
}

// One title line, centred in `width` pixels with its baseline at `baseline_y`; shrunk, then cut, to fit.
void put_title_line(cv::Mat& canvas, std::string text, int left, int width, int baseline_y,
                    const FigureLayout& layout) {
  int baseline = 0;
  double scale = layout.font_scale;
  cv::Size size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  if (size.width > width) {
    scale = std::max(kMinFontScale, scale * width / size.width);
    size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  }
  while (size.width > width && text.size() > 2) {
    text = text.substr(0, text.size() - 3) + "..";
    size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  }
  cv::putText(canvas, text, cv::Point(left + (width - size.width) / 2, baseline_y), kFont, scale, kBlack, 1,
              cv::LINE_AA);
}

// Draws panel `index` of the row: its title strip, then `image_bgr` (input size) enlarged below it.
void draw_panel(cv::Mat& canvas, int index, const cv::Mat& image_bgr,
                const std::vector<std::string>& title_lines, int strip_lines, const FigureLayout& layout) {
  const cv::Size panel = figure_panel_size(image_bgr.size(), strip_lines, layout);
  const int left = index * panel.width;
  const int text_width = panel.width - 2 * layout.margin;
  for (std::size_t line = 0; line < title_lines.size(); ++line) {
    // Baselines sit a quarter line above each line's bottom, leaving room for descenders.
    const int bottom = layout.margin + static_cast<int>(line + 1) * layout.title_line_height;
    put_title_line(canvas, title_lines[line], left + layout.margin, text_width,
                   bottom - layout.title_line_height / 4, layout);
  }
  const int factor = enlargement(image_bgr.size(), layout);
  cv::Mat enlarged;
  cv::resize(image_bgr, enlarged, cv::Size(), factor, factor, cv::INTER_NEAREST);
  const int top = layout.margin + strip_lines * layout.title_line_height;
  enlarged.copyTo(canvas(cv::Rect(left + layout.margin, top, enlarged.cols, enlarged.rows)));
}

bool drawable(const cv::Mat& map) { return !map.empty() && cv::checkRange(map, /*quiet=*/true); }

}  // namespace

cv::Size figure_panel_size(cv::Size input_size, int title_lines, const FigureLayout& layout) {
  const int factor = enlargement(input_size, layout);
  return {input_size.width * factor + 2 * layout.margin,
          2 * layout.margin + title_lines * layout.title_line_height + input_size.height * factor};
}

cv::Mat draw_figure_row(const cv::Mat& input_rgb, const std::vector<std::string>& input_title_lines,
                        const std::vector<FigurePanel>& panels, const FigureLayout& layout) {
  if (input_rgb.empty() || input_rgb.type() != CV_8UC3)
    throw Error("draw_figure_row expects an 8-bit RGB image");
  for (const FigurePanel& panel : panels) {
    if (!panel.map.empty() && (panel.map.type() != CV_32FC1 || panel.map.dims != 2)) {
      throw Error("draw_figure_row expects maps as 2-D float32 matrices");
    }
  }

  // A panel without a map keeps its first title line (the method) and says why it is grey.
  std::vector<std::vector<std::string>> titles{input_title_lines};
  for (const FigurePanel& panel : panels) {
    if (drawable(panel.map)) {
      titles.push_back(panel.title_lines);
    } else {
      titles.push_back({panel.title_lines.empty() ? std::string() : panel.title_lines.front(), "no map"});
    }
  }
  std::size_t strip_lines = 0;  // the same strip height in every panel keeps the images aligned
  for (const auto& lines : titles) strip_lines = std::max(strip_lines, lines.size());

  const cv::Size panel = figure_panel_size(input_rgb.size(), static_cast<int>(strip_lines), layout);
  cv::Mat canvas(panel.height, panel.width * static_cast<int>(titles.size()), CV_8UC3, kWhite);
  cv::Mat input_bgr;
  cv::cvtColor(input_rgb, input_bgr, cv::COLOR_RGB2BGR);
  draw_panel(canvas, 0, input_bgr, titles[0], static_cast<int>(strip_lines), layout);
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const cv::Mat image = drawable(panels[i].map) ? overlay(input_bgr, panels[i].map, layout.map_weight)
                                                  : cv::Mat(input_bgr.size(), CV_8UC3, kNoMapGrey);
    draw_panel(canvas, static_cast<int>(i + 1), image, titles[i + 1], static_cast<int>(strip_lines), layout);
  }
  return canvas;
}

std::string target_caption(const std::string& class_name, double probability) {
  char text[32];
  std::snprintf(text, sizeof text, " %.2f", probability);
  return class_name + text;
}

void write_figure_png(const std::string& path, const cv::Mat& figure_bgr) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw IoError("figure " + path + ": cannot create " + parent.string() + " (" + ec.message() + ")");
  bool written = false;
  try {
    written = cv::imwrite(path, figure_bgr);
  } catch (const cv::Exception& e) {
    throw IoError("figure " + path + ": " + e.what());
  }
  if (!written) throw IoError("figure " + path + ": cannot write the PNG");
}

}  // namespace pixab
