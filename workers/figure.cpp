// Figures: explanation rows and sanity grids (jet overlays of the maps, panels titled).
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

// Text shrunk, then cut with "..", until it fits `width` pixels.
struct FittedText {
  std::string text;
  double scale;
  cv::Size size;
};
FittedText fit_text(std::string text, int width, double font_scale) {
  int baseline = 0;
  double scale = font_scale;
  cv::Size size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  if (size.width > width) {
    scale = std::max(kMinFontScale, scale * width / size.width);
    size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  }
  while (size.width > width && text.size() > 2) {
    text = text.substr(0, text.size() - 3) + "..";
    size = cv::getTextSize(text, kFont, scale, 1, &baseline);
  }
  return {text, scale, size};
}

// One line of text, centred in `width` pixels from `left`, its baseline at `baseline_y`; fitted to the width.
void put_text_line(cv::Mat& canvas, const std::string& text, int left, int width, int baseline_y,
                   double font_scale) {
  const FittedText fitted = fit_text(text, width, font_scale);
  cv::putText(canvas, fitted.text, cv::Point(left + (width - fitted.size.width) / 2, baseline_y), kFont,
              fitted.scale, kBlack, 1, cv::LINE_AA);
}

// Draws panel `index` of a row: its title strip, then `image_bgr` (input size) enlarged below it; an empty
// `image_bgr` leaves the image part white (a grid row's title-only first column).
void draw_panel(cv::Mat& row, int index, const cv::Mat& image_bgr, cv::Size input_size,
                const std::vector<std::string>& title_lines, int strip_lines, const FigureLayout& layout) {
  const cv::Size panel = figure_panel_size(input_size, strip_lines, layout);
  const int left = index * panel.width;
  const int text_width = panel.width - 2 * layout.margin;
  for (std::size_t line = 0; line < title_lines.size(); ++line) {
    // Baselines sit a quarter line above each line's bottom, leaving room for descenders.
    const int bottom = layout.margin + static_cast<int>(line + 1) * layout.title_line_height;
    put_text_line(row, title_lines[line], left + layout.margin, text_width,
                  bottom - layout.title_line_height / 4, layout.font_scale);
  }
  if (image_bgr.empty()) return;
  const int factor = enlargement(input_size, layout);
  cv::Mat enlarged;
  cv::resize(image_bgr, enlarged, cv::Size(), factor, factor, cv::INTER_NEAREST);
  const int top = layout.margin + strip_lines * layout.title_line_height;
  enlarged.copyTo(row(cv::Rect(left + layout.margin, top, enlarged.cols, enlarged.rows)));
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
  return draw_figure_grid(input_rgb, {{input_title_lines, panels}}, layout);
}

cv::Mat draw_figure_grid(const cv::Mat& input_rgb, const std::vector<FigureGridRow>& rows,
                         const FigureLayout& layout) {
  if (input_rgb.empty() || input_rgb.type() != CV_8UC3) throw Error("a figure expects an 8-bit RGB image");
  if (rows.empty()) throw Error("draw_figure_grid expects at least one row");
  std::size_t columns = 0;
  for (const FigureGridRow& row : rows) {
    columns = std::max(columns, 1 + row.panels.size());
    for (const FigurePanel& panel : row.panels) {
      if (!panel.map.empty() && (panel.map.type() != CV_32FC1 || panel.map.dims != 2)) {
        throw Error("a figure expects maps as 2-D float32 matrices");
      }
    }
  }

  // Per row, the first column's title then each panel's; a panel without a map keeps its first title line
  // (the method) and says why it is grey.
  std::vector<std::vector<std::vector<std::string>>> titles;
  std::size_t strip_lines = 0;  // the same strip height in every panel keeps the images aligned
  for (const FigureGridRow& row : rows) {
    auto& row_titles = titles.emplace_back(std::vector<std::vector<std::string>>{row.title_lines});
    for (const FigurePanel& panel : row.panels) {
      if (drawable(panel.map)) {
        row_titles.push_back(panel.title_lines);
      } else {
        row_titles.push_back(
            {panel.title_lines.empty() ? std::string() : panel.title_lines.front(), "no map"});
      }
    }
    for (const auto& lines : row_titles) strip_lines = std::max(strip_lines, lines.size());
  }

  const int strip = static_cast<int>(strip_lines);
  const cv::Size panel = figure_panel_size(input_rgb.size(), strip, layout);
  cv::Mat canvas(panel.height * static_cast<int>(rows.size()), panel.width * static_cast<int>(columns),
                 CV_8UC3, kWhite);
  cv::Mat input_bgr;
  cv::cvtColor(input_rgb, input_bgr, cv::COLOR_RGB2BGR);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    cv::Mat row = canvas.rowRange(static_cast<int>(r) * panel.height, static_cast<int>(r + 1) * panel.height);
    draw_panel(row, 0, r == 0 ? input_bgr : cv::Mat(), input_rgb.size(), titles[r][0], strip, layout);
    const auto& panels = rows[r].panels;
    for (std::size_t i = 0; i < panels.size(); ++i) {
      const cv::Mat image = drawable(panels[i].map) ? overlay(input_bgr, panels[i].map, layout.map_weight)
                                                    : cv::Mat(input_bgr.size(), CV_8UC3, kNoMapGrey);
      draw_panel(row, static_cast<int>(i + 1), image, input_rgb.size(), titles[r][i + 1], strip, layout);
    }
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
