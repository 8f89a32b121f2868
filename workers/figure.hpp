// Drawing explanation rows (the paper's Figure 8) and sanity grids of rows (Figure 11): the input the model
// sees, then each method's map as a colour overlay on it, every panel titled. Drawing only: no model, no file
// read.
#pragma once

#include <opencv2/core.hpp>

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
};

// One panel's size (image part, margins, a title strip of `title_lines` lines); all panels of a row share it.
cv::Size figure_panel_size(cv::Size input_size, int title_lines, const FigureLayout& layout = {});

// Draws one row, returned as 8-bit BGR (cv::imwrite's order), of width (1 + panels) * panel width: first
// `input_rgb` (CV_8UC3, RGB, at the model's input size: what the model sees), titled `input_title_lines`,
// then one panel per map. Each map is upsampled to the input size with bilinear interpolation (cv::resize
// INTER_LINEAR, pixel centres aligned as in torch's interpolate with align_corners=false), coloured with
// cv::COLORMAP_JET (0 blue, 1 red) and blended over the image. The composed panel is enlarged with
// nearest-neighbour scaling, so that the pixels of small inputs stay visible. A map with NaN is a plain grey
// panel titled "no map".
cv::Mat draw_figure_row(const cv::Mat& input_rgb, const std::vector<std::string>& input_title_lines,
                        const std::vector<FigurePanel>& panels, const FigureLayout& layout = {});

// One row of a grid: the title of its first column (e.g. a randomisation stage) and its method panels.
struct FigureGridRow {
  std::vector<std::string> title_lines;
  std::vector<FigurePanel> panels;
};

// Draws rows as draw_figure_row does, stacked: (rows) x (1 + most panels of a row) panels of one size (every
// row gets the title strip of the row with the most title lines). The first column shows `input_rgb` in the
// first row only; further rows show just their title there, so the image is not repeated down the grid.
// draw_figure_row is the one-row grid.
cv::Mat draw_figure_grid(const cv::Mat& input_rgb, const std::vector<FigureGridRow>& rows,
                         const FigureLayout& layout = {});

// The second title line of a method panel: the target class and its probability, e.g. "Coat 0.93".
std::string target_caption(const std::string& class_name, double probability);

// Writes a figure as PNG, creating the parent directories; IoError naming the file on failure.
void write_figure_png(const std::string& path, const cv::Mat& figure_bgr);

}  // namespace pixab
