// Drawing figures: explanation rows (the paper's Figure 8), sanity grids of rows (Figure 11) and
// deletion / insertion curve plots. Drawing only: no model, no files read.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace pixab {

// One method's panel: its title (one entry per line, e.g. {"grad_cam", "Coat 0.93"}) and its map.
struct FigurePanel {
  std::vector<std::string> title_lines;
  cv::Mat map;  // h x w CV_32FC1, values in [0,1]; a map with any NaN (a failed item) is drawn as "no map"
};

struct FigureLayout {
  int min_panel_size = 192;    // the input is enlarged by a whole factor until both its sides reach this
  int margin = 4;              // white space around the image part of every panel, in pixels
  int title_line_height = 20;  // pixels per title line
  double font_scale = 0.5;     // FONT_HERSHEY_SIMPLEX; shrunk where a line would not fit the panel
  double map_weight = 0.5;     // the colour map's share in the overlay; the image has the rest
  int outline_thickness = 2;   // of the input panel's box outlines, in figure pixels
};

// A box outlined on the input panel (an adversarial patch): its pixel edges in input coordinates (a box of
// the single pixel (x, y) is x, y, x + 1, y + 1) and its colour (BGR). The outline lies inside the box.
struct FigureOutline {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  cv::Scalar colour;
};

// The outline colours (BGR) of adversarial patches: the patch (or union of patches) a row explains, and the
// example's other patches.
inline const cv::Scalar kTargetPatchOutline{0, 0, 255};   // red
inline const cv::Scalar kOtherPatchOutline{255, 255, 0};  // cyan

// One panel's size (image part, margins, a title strip of `title_lines` lines); all panels of a row share it.
cv::Size figure_panel_size(cv::Size input_size, int title_lines, const FigureLayout& layout = {});

// Draws one row, returned as 8-bit BGR (cv::imwrite's order), of width (1 + panels) * panel width: first
// `input_rgb` (CV_8UC3, RGB, at the model's input size: what the model sees), titled `input_title_lines`,
// then one panel per map. Each map is upsampled to the input size with bilinear interpolation (cv::resize
// INTER_LINEAR, pixel centres aligned as in torch's interpolate with align_corners=false), coloured with
// cv::COLORMAP_JET (0 blue, 1 red) and blended over the image. The composed panel is enlarged with
// nearest-neighbour scaling, so that the pixels of small inputs stay visible. A map with NaN is a plain grey
// panel titled "no map". `input_outlines` are drawn on the input panel only, after its enlargement, so that
// their edges fall on the boxes' pixel edges (Error for a box that is not finite).
cv::Mat draw_figure_row(const cv::Mat& input_rgb, const std::vector<std::string>& input_title_lines,
                        const std::vector<FigurePanel>& panels,
                        const std::vector<FigureOutline>& input_outlines = {},
                        const FigureLayout& layout = {});

// One row of a grid: the title of its first column (e.g. a randomisation stage) and its method panels.
struct FigureGridRow {
  std::vector<std::string> title_lines;
  std::vector<FigurePanel> panels;
};

// Draws rows as draw_figure_row does, stacked: (rows) x (1 + most panels of a row) panels of one size (every
// row gets the title strip of the row with the most title lines). The first column shows `input_rgb` (with
// `input_outlines`) in the first row only; further rows show just their title there, so the image is not
// repeated down the grid. draw_figure_row is the one-row grid.
cv::Mat draw_figure_grid(const cv::Mat& input_rgb, const std::vector<FigureGridRow>& rows,
                         const std::vector<FigureOutline>& input_outlines = {},
                         const FigureLayout& layout = {});

// The second title line of a method panel: the target class and its probability, e.g. "Coat 0.93".
std::string target_caption(const std::string& class_name, double probability);

// ---- deletion / insertion curves

// One method's curve: p_c at t = 0..steps, drawn at x = t / steps.
struct CurveSeries {
  std::string label;         // legend text before the AUC, e.g. "grad_cam"
  std::vector<double> mean;  // empty: no curve (no usable item); the legend says so
  double auc = std::numeric_limits<double>::quiet_NaN();  // shown in the legend; NaN: "n/a"
};

struct CurvePlot {
  std::string title, x_label, y_label;
  std::vector<CurveSeries> series;  // legend and colours in this order
};

struct CurvePlotLayout {
  cv::Size plot_size{480, 320};  // the axes: x 0..1 across its width, y 0..1 up its height
  int left = 72;                 // room for the y tick labels and the rotated y label
  int top = 40;                  // the title
  int bottom = 56;               // the x tick labels and the x label
  int legend_gap = 16;           // between the axes and the legend
  int legend_width = 260;
  int legend_line_height = 22;
  int swatch_width = 28;  // the line sample before each legend entry
  int right = 8;
  double font_scale = 0.5;  // FONT_HERSHEY_SIMPLEX
  int line_thickness = 2;
};

// Where a curve plot's parts go; the legend grows the canvas downwards when it has more entries than fit
// beside the axes.
struct CurvePlotGeometry {
  cv::Size canvas;
  cv::Rect plot_area;                     // x = 0 at its left column, 1 at its right; y = 1 at its top row
  std::vector<cv::Rect> legend_swatches;  // one per series, top to bottom; its text follows to the right
};
CurvePlotGeometry curve_plot_geometry(std::size_t series_count, const CurvePlotLayout& layout = {});

// The colour (BGR) of series `index` of `count`: Tableau's 10 distinct colours, or evenly spaced hues when
// there are more series than that (e.g. the design study's variants).
cv::Scalar curve_colour(std::size_t index, std::size_t count);

// A series' legend entry, e.g. "grad_cam  AUC 0.123".
std::string curve_legend_text(const CurveSeries& series);

// Draws a curve plot (8-bit BGR): axes with ticks 0, 0.5, 1 on x and 0, 0.25, .., 1 on y and grid lines,
// one polyline per series (values clamped to [0,1]: p_c is a probability), the legend right of the axes.
cv::Mat draw_curve_plot(const CurvePlot& plot, const CurvePlotLayout& layout = {});

// The mean curve over the items that are ok and whose whole curve is finite.
struct MeanCurve {
  std::vector<double> mean;       // empty when no row is usable
  std::vector<std::size_t> rows;  // the rows averaged, ascending
};
// `values`: [item_ok.size(), points] row-major (a /curves/<method>/<kind> array).
MeanCurve mean_curve(const std::vector<float>& values, std::size_t points, const std::vector<bool>& item_ok);

// Writes a figure as PNG, creating the parent directories; IoError naming the file on failure.
void write_figure_png(const std::string& path, const cv::Mat& figure_bgr);

}  // namespace pixab
