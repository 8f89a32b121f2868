// Figures: explanation rows and sanity grids (jet overlays of the maps, panels titled), and curve plots.
#include "workers/figure.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
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

enum class Align { kLeft, kCentre, kRight };

// One line of text within `width` pixels from `left`, its baseline at `baseline_y`; fitted to the width.
void put_text_line(cv::Mat& canvas, const std::string& text, int left, int width, int baseline_y,
                   double font_scale, Align align = Align::kCentre) {
  const FittedText fitted = fit_text(text, width, font_scale);
  const int slack = width - fitted.size.width;
  const int x = left + (align == Align::kLeft ? 0 : align == Align::kCentre ? slack / 2 : slack);
  cv::putText(canvas, fitted.text, cv::Point(x, baseline_y), kFont, fitted.scale, kBlack, 1, cv::LINE_AA);
}

// Draws panel `index` of a row: its title strip, then `image_bgr` (input size) enlarged below it; an empty
// `image_bgr` leaves the image part white (a grid row's title-only first column). Returns the image part's
// place in `row` (empty without an image).
cv::Rect draw_panel(cv::Mat& row, int index, const cv::Mat& image_bgr, cv::Size input_size,
                    const std::vector<std::string>& title_lines, int strip_lines,
                    const FigureLayout& layout) {
  const cv::Size panel = figure_panel_size(input_size, strip_lines, layout);
  const int left = index * panel.width;
  const int text_width = panel.width - 2 * layout.margin;
  for (std::size_t line = 0; line < title_lines.size(); ++line) {
    // Baselines sit a quarter line above each line's bottom, leaving room for descenders.
    const int bottom = layout.margin + static_cast<int>(line + 1) * layout.title_line_height;
    put_text_line(row, title_lines[line], left + layout.margin, text_width,
                  bottom - layout.title_line_height / 4, layout.font_scale);
  }
  if (image_bgr.empty()) return {};
  const int factor = enlargement(input_size, layout);
  cv::Mat enlarged;
  cv::resize(image_bgr, enlarged, cv::Size(), factor, factor, cv::INTER_NEAREST);
  const int top = layout.margin + strip_lines * layout.title_line_height;
  const cv::Rect image_part(left + layout.margin, top, enlarged.cols, enlarged.rows);
  enlarged.copyTo(row(image_part));
  return image_part;
}

// Outlines the boxes on an input panel's image part (the input enlarged `factor` times): bands of the
// layout's thickness just inside each box's edges, clipped to the image.
void draw_outlines(cv::Mat image_part, const std::vector<FigureOutline>& outlines, int factor,
                   const FigureLayout& layout) {
  const cv::Rect bounds(0, 0, image_part.cols, image_part.rows);
  const auto figure_edge = [factor](float edge, int extent) {  // clamped first: no int overflow far outside
    return static_cast<int>(std::lround(std::clamp(static_cast<double>(edge) * factor, -1.0, extent + 1.0)));
  };
  for (const FigureOutline& outline : outlines) {
    const cv::Rect box(
        cv::Point(figure_edge(outline.x1, bounds.width), figure_edge(outline.y1, bounds.height)),
        cv::Point(figure_edge(outline.x2, bounds.width), figure_edge(outline.y2, bounds.height)));
    const int t = std::min({layout.outline_thickness, box.width, box.height});
    for (const cv::Rect& band :
         {cv::Rect(box.x, box.y, box.width, t), cv::Rect(box.x, box.br().y - t, box.width, t),
          cv::Rect(box.x, box.y, t, box.height), cv::Rect(box.br().x - t, box.y, t, box.height)}) {
      const cv::Rect visible = band & bounds;
      if (!visible.empty()) image_part(visible).setTo(outline.colour);
    }
  }
}

bool drawable(const cv::Mat& map) { return !map.empty() && cv::checkRange(map, /*quiet=*/true); }

}  // namespace

cv::Size figure_panel_size(cv::Size input_size, int title_lines, const FigureLayout& layout) {
  const int factor = enlargement(input_size, layout);
  return {input_size.width * factor + 2 * layout.margin,
          2 * layout.margin + title_lines * layout.title_line_height + input_size.height * factor};
}

cv::Mat draw_figure_row(const cv::Mat& input_rgb, const std::vector<std::string>& input_title_lines,
                        const std::vector<FigurePanel>& panels,
                        const std::vector<FigureOutline>& input_outlines, const FigureLayout& layout) {
  return draw_figure_grid(input_rgb, {{input_title_lines, panels}}, input_outlines, layout);
}

cv::Mat draw_figure_grid(const cv::Mat& input_rgb, const std::vector<FigureGridRow>& rows,
                         const std::vector<FigureOutline>& input_outlines, const FigureLayout& layout) {
  if (input_rgb.empty() || input_rgb.type() != CV_8UC3) throw Error("a figure expects an 8-bit RGB image");
  if (rows.empty()) throw Error("draw_figure_grid expects at least one row");
  for (const FigureOutline& o : input_outlines) {
    if (!std::isfinite(o.x1) || !std::isfinite(o.y1) || !std::isfinite(o.x2) || !std::isfinite(o.y2))
      throw Error("a figure expects finite outline boxes");
  }
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
    const cv::Rect input_part =
        draw_panel(row, 0, r == 0 ? input_bgr : cv::Mat(), input_rgb.size(), titles[r][0], strip, layout);
    if (r == 0) draw_outlines(row(input_part), input_outlines, enlargement(input_rgb.size(), layout), layout);
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

// ---- curve plots

namespace {

const cv::Scalar kGridGrey(225, 225, 225);
constexpr int kTickLength = 5;
constexpr int kTextGap = 8;          // between a tick or swatch and its text
constexpr int kTickLabelWidth = 40;  // room for "0.25" at the default font scale, about 36 pixels

// The height of a digit: what centres a line of text on a tick or a swatch.
int digit_height(double font_scale) { return cv::getTextSize("0", kFont, font_scale, 1, nullptr).height; }

// Tick values and their labels as printed ("0", "0.25", "1").
std::string tick_label(double value) {
  char text[16];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// The pixel of the plot point (x, y), both in [0,1], in sub-pixel units of 2^kShift (cv::polylines' shift).
constexpr int kShift = 4;
cv::Point plot_point(const cv::Rect& area, double x, double y) {
  const double column = area.x + x * (area.width - 1), row = area.y + (1.0 - y) * (area.height - 1);
  return {static_cast<int>(std::lround(column * (1 << kShift))),
          static_cast<int>(std::lround(row * (1 << kShift)))};
}

// Text along the y axis, read bottom to top, centred on `centre`: OpenCV draws only horizontal text, so it is
// drawn on a strip that is then rotated.
void put_vertical_text(cv::Mat& canvas, const std::string& text, cv::Point centre, int length,
                       double font_scale) {
  const FittedText fitted = fit_text(text, length, font_scale);
  int baseline = 0;
  cv::getTextSize(fitted.text, kFont, fitted.scale, 1, &baseline);
  cv::Mat strip(fitted.size.height + baseline + 2, fitted.size.width + 2, CV_8UC3, kWhite), rotated;
  cv::putText(strip, fitted.text, cv::Point(1, fitted.size.height + 1), kFont, fitted.scale, kBlack, 1,
              cv::LINE_AA);
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const cv::Rect target(centre.x - rotated.cols / 2, centre.y - rotated.rows / 2, rotated.cols, rotated.rows);
  rotated.copyTo(canvas(target & cv::Rect(0, 0, canvas.cols, canvas.rows)));
}

// Grid lines, the frame, ticks and tick labels of the unit square.
void draw_axes(cv::Mat& canvas, const cv::Rect& area, const CurvePlotLayout& layout) {
  const std::array<double, 3> x_ticks{0.0, 0.5, 1.0};
  const std::array<double, 5> y_ticks{0.0, 0.25, 0.5, 0.75, 1.0};
  const int text_height = digit_height(layout.font_scale);
  for (double x : x_ticks) {
    const int column = plot_point(area, x, 0).x >> kShift;
    cv::line(canvas, {column, area.y}, {column, area.br().y - 1}, kGridGrey);
    cv::line(canvas, {column, area.br().y}, {column, area.br().y + kTickLength}, kBlack);
    put_text_line(canvas, tick_label(x), column - kTickLabelWidth / 2, kTickLabelWidth,
                  area.br().y + kTickLength + kTextGap / 2 + text_height, layout.font_scale);
  }
  for (double y : y_ticks) {
    const int row = plot_point(area, 0, y).y >> kShift;
    cv::line(canvas, {area.x, row}, {area.br().x - 1, row}, kGridGrey);
    cv::line(canvas, {area.x - kTickLength, row}, {area.x - 1, row}, kBlack);
    const int label_right = area.x - kTickLength - kTextGap / 2;
    put_text_line(canvas, tick_label(y), label_right - kTickLabelWidth, kTickLabelWidth,
                  row + text_height / 2, layout.font_scale, Align::kRight);
  }
  cv::rectangle(canvas, area, kBlack);
}

}  // namespace

CurvePlotGeometry curve_plot_geometry(std::size_t series_count, const CurvePlotLayout& layout) {
  CurvePlotGeometry geometry;
  geometry.plot_area = cv::Rect({layout.left, layout.top}, layout.plot_size);
  const int legend_left = geometry.plot_area.br().x + layout.legend_gap;
  const int swatch_height = layout.line_thickness + 4;
  for (std::size_t i = 0; i < series_count; ++i) {
    const int middle =
        layout.top + static_cast<int>(i) * layout.legend_line_height + layout.legend_line_height / 2;
    geometry.legend_swatches.emplace_back(legend_left, middle - swatch_height / 2, layout.swatch_width,
                                          swatch_height);
  }
  const int legend_bottom = layout.top + static_cast<int>(series_count) * layout.legend_line_height;
  geometry.canvas = {legend_left + layout.legend_width + layout.right,
                     std::max(geometry.plot_area.br().y + layout.bottom, legend_bottom + layout.right)};
  return geometry;
}

cv::Scalar curve_colour(std::size_t index, std::size_t count) {
  // Tableau 10 (matplotlib's default cycle), BGR.
  static const std::array<cv::Scalar, 10> kTableau{{{180, 119, 31},
                                                    {14, 127, 255},
                                                    {44, 160, 44},
                                                    {40, 39, 214},
                                                    {189, 103, 148},
                                                    {75, 86, 140},
                                                    {194, 119, 227},
                                                    {127, 127, 127},
                                                    {34, 189, 188},
                                                    {207, 190, 23}}};
  if (count <= kTableau.size()) return kTableau[index % kTableau.size()];
  const cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(static_cast<double>(180 * index / count), 255, 200));
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  const cv::Vec3b pixel = bgr.at<cv::Vec3b>(0, 0);
  return {static_cast<double>(pixel[0]), static_cast<double>(pixel[1]), static_cast<double>(pixel[2])};
}

std::string curve_legend_text(const CurveSeries& series) {
  if (series.mean.empty()) return series.label + "  no curve";
  if (!std::isfinite(series.auc)) return series.label + "  AUC n/a";
  char auc[32];
  std::snprintf(auc, sizeof auc, "  AUC %.3f", series.auc);
  return series.label + auc;
}

cv::Mat draw_curve_plot(const CurvePlot& plot, const CurvePlotLayout& layout) {
  for (const CurveSeries& series : plot.series) {
    if (!std::all_of(series.mean.begin(), series.mean.end(), [](double v) { return std::isfinite(v); }))
      throw Error("curve plot '" + plot.title + "': series " + series.label + " has non-finite values");
  }
  const CurvePlotGeometry geometry = curve_plot_geometry(plot.series.size(), layout);
  const cv::Rect& area = geometry.plot_area;
  cv::Mat canvas(geometry.canvas, CV_8UC3, kWhite);
  draw_axes(canvas, area, layout);

  const int text_height = digit_height(layout.font_scale);
  put_text_line(canvas, plot.title, 0, geometry.canvas.width, layout.top / 2 + text_height / 2,
                layout.font_scale * 1.2);
  put_text_line(canvas, plot.x_label, area.x, area.width, area.br().y + layout.bottom - kTextGap,
                layout.font_scale);
  put_vertical_text(canvas, plot.y_label, {kTextGap + text_height / 2, area.y + area.height / 2}, area.height,
                    layout.font_scale);

  const int legend_text_left = area.br().x + layout.legend_gap + layout.swatch_width + kTextGap;
  const int legend_text_width = geometry.canvas.width - layout.right - legend_text_left;
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const CurveSeries& series = plot.series[i];
    const cv::Scalar colour = curve_colour(i, plot.series.size());
    // Curves after the axes, so that a curve along an edge (p_c = 1 or 0) is drawn over the frame.
    std::vector<cv::Point> points;
    const double last = std::max<double>(1.0, static_cast<double>(series.mean.size()) - 1.0);
    for (std::size_t t = 0; t < series.mean.size(); ++t)
      points.push_back(plot_point(area, t / last, std::clamp(series.mean[t], 0.0, 1.0)));
    cv::polylines(canvas, points, /*isClosed=*/false, colour, layout.line_thickness, cv::LINE_AA, kShift);

    const cv::Rect& swatch = geometry.legend_swatches[i];
    cv::rectangle(canvas, swatch, colour, cv::FILLED);
    put_text_line(canvas, curve_legend_text(series), legend_text_left, legend_text_width,
                  swatch.y + swatch.height / 2 + text_height / 2, layout.font_scale, Align::kLeft);
  }
  return canvas;
}

MeanCurve mean_curve(const std::vector<float>& values, std::size_t points, const std::vector<bool>& item_ok) {
  if (points == 0 || values.size() != item_ok.size() * points)
    throw Error("mean_curve: expected " + std::to_string(item_ok.size()) + " rows of " +
                std::to_string(points) + " points, got " + std::to_string(values.size()) + " values");
  MeanCurve result;
  std::vector<double> sum(points, 0.0);
  for (std::size_t row = 0; row < item_ok.size(); ++row) {
    const float* curve = values.data() + row * points;
    // A failed item's row is NaN; an ok item with a non-finite point would poison the whole mean.
    if (!item_ok[row] || !std::all_of(curve, curve + points, [](float v) { return std::isfinite(v); }))
      continue;
    for (std::size_t t = 0; t < points; ++t) sum[t] += curve[t];
    result.rows.push_back(row);
  }
  if (result.rows.empty()) return result;
  for (double& value : sum) value /= static_cast<double>(result.rows.size());
  result.mean = std::move(sum);
  return result;
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
