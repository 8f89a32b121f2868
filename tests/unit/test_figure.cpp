// Figures drawn from synthetic inputs: row and sanity grid sizes, the overlay colours (jet: 1 red, 0 blue),
// "no map", box outlines on the input panel, curve plots (where a known curve lands, legend order), the mean
// curve over usable items; and `pixab render` on small results files written here (which figures, their
// sizes, an adversarial file's examples and patch outlines, shape errors).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "io/error.hpp"
#include "io/model_meta.hpp"
#include "io/results_file.hpp"
#include "pipeline/command.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/figure.hpp"

namespace pixab {
namespace {

constexpr int kInputSize = 64;  // the demo model's input
const cv::Vec3b kMidGrey(128, 128, 128);

cv::Mat grey_input() { return cv::Mat(kInputSize, kInputSize, CV_8UC3, cv::Scalar::all(128)); }

FigurePanel panel_with(const cv::Mat& map) { return {{"grad_cam", target_caption("Coat", 0.93)}, map}; }

// The BGR pixel of the figure at (x, y) of the input image, inside panel `index` (0 is the input) of grid row
// `row`.
cv::Vec3b pixel_at_input(const cv::Mat& figure, int index, double x, double y, int title_lines, int row = 0) {
  const FigureLayout layout;
  const cv::Size panel = figure_panel_size({kInputSize, kInputSize}, title_lines, layout);
  const double scale = static_cast<double>(panel.width - 2 * layout.margin) / kInputSize;
  const int left = index * panel.width + layout.margin;
  const int top = row * panel.height + layout.margin + title_lines * layout.title_line_height;
  return figure.at<cv::Vec3b>(top + static_cast<int>(y * scale), left + static_cast<int>(x * scale));
}

// The BGR pixel at figure pixel `at` of the image part (the input, enlarged) of panel `index` of a one-row
// figure.
cv::Vec3b image_part_pixel(const cv::Mat& figure, cv::Size input_size, int index, cv::Point at,
                           int title_lines = 2) {
  const FigureLayout layout;
  const cv::Size panel = figure_panel_size(input_size, title_lines, layout);
  return figure.at<cv::Vec3b>(layout.margin + title_lines * layout.title_line_height + at.y,
                              index * panel.width + layout.margin + at.x);
}

cv::Vec3b bgr(const cv::Scalar& colour) { return cv::Vec3b(cv::Vec3d(colour.val)); }

TEST(Figure, RowIsPanelsTimesPanelWidth) {
  const cv::Mat figure = draw_figure_row(grey_input(), {"input", "demo_000000.png"},
                                         {panel_with(cv::Mat(8, 8, CV_32FC1, cv::Scalar(0.5f))),
                                          panel_with(cv::Mat(8, 8, CV_32FC1, cv::Scalar(0.25f)))});
  const cv::Size panel = figure_panel_size({kInputSize, kInputSize}, 2);
  EXPECT_GE(panel.width, FigureLayout{}.min_panel_size);  // small inputs are enlarged to a readable size
  EXPECT_EQ(figure.type(), CV_8UC3);
  EXPECT_EQ(figure.cols, 3 * panel.width);
  EXPECT_EQ(figure.rows, panel.height);
}

TEST(Figure, HighMapValuesAreRedLowAreBlue) {
  // Left half of the map 1, right half 0: the overlay must keep the map's orientation, not only its colours.
  cv::Mat map(8, 8, CV_32FC1, cv::Scalar(0.0f));
  map.colRange(0, 4).setTo(1.0f);
  const cv::Mat figure = draw_figure_row(grey_input(), {"input", "x"}, {panel_with(map)});

  // Away from the middle, bilinear upsampling keeps the exact values; jet(1) is dark red, jet(0) dark blue,
  // each blended half and half with the grey image.
  const cv::Vec3b high = pixel_at_input(figure, 1, 4, 32, 2);
  EXPECT_GE(high[2] - high[0], 50) << high;  // BGR: red well above blue
  EXPECT_GE(high[2] - high[1], 50) << high;  // and above green
  const cv::Vec3b low = pixel_at_input(figure, 1, 60, 32, 2);
  EXPECT_GE(low[0] - low[2], 50) << low;
  EXPECT_GE(low[0] - low[1], 50) << low;

  EXPECT_EQ(pixel_at_input(figure, 0, 32, 32, 2), kMidGrey);  // the input panel is the image itself
}

TEST(Figure, MapsAreUpsampledBilinearly) {
  // A single hot cell of a 2x2 map spreads over the neighbouring cell's half: the middle of the input is
  // halfway between the two colours, which nearest-neighbour upsampling would never give.
  cv::Mat map(1, 2, CV_32FC1, cv::Scalar(0.0f));
  map.at<float>(0, 0) = 1.0f;
  const cv::Mat figure = draw_figure_row(grey_input(), {"input"}, {panel_with(map)});
  const cv::Vec3b left = pixel_at_input(figure, 1, 2, 32, 2), middle = pixel_at_input(figure, 1, 32, 32, 2),
                  right = pixel_at_input(figure, 1, 62, 32, 2);
  EXPECT_GE(left[2] - right[2], 50);  // red at the hot cell, blue at the cold one
  EXPECT_GE(right[0] - left[0], 50);
  EXPECT_GE(middle[1] - left[1], 50) << middle;  // jet is green only in the middle of its range
  EXPECT_GE(middle[1] - right[1], 50) << middle;
}

TEST(Figure, NanMapIsAGreyPanel) {
  const cv::Mat nan_map(8, 8, CV_32FC1, cv::Scalar(std::numeric_limits<float>::quiet_NaN()));
  const cv::Mat input(kInputSize, kInputSize, CV_8UC3, cv::Scalar(200, 30, 30));
  const cv::Mat figure = draw_figure_row(input, {"input", "x"}, {panel_with(nan_map)});
  const cv::Size panel = figure_panel_size({kInputSize, kInputSize}, 2);
  EXPECT_EQ(figure.cols, 2 * panel.width);
  for (double at : {1.0, 32.0, 63.0}) {
    EXPECT_EQ(pixel_at_input(figure, 1, at, at, 2), kMidGrey) << at;  // not the image, not a colour
  }
}

TEST(Figure, CaptionAndPngFile) {
  EXPECT_EQ(target_caption("Coat", 0.934), "Coat 0.93");
  const std::string path = test::fresh_temp_dir("figure") + "/nested/row.png";
  const cv::Mat figure = draw_figure_row(grey_input(), {"a very long input title that cannot fit the panel"},
                                         {panel_with(cv::Mat(8, 8, CV_32FC1, cv::Scalar(1.0f)))});
  write_figure_png(path, figure);  // creates the missing folder
  const cv::Mat back = cv::imread(path, cv::IMREAD_COLOR);
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(back.size(), figure.size());
  EXPECT_EQ(cv::norm(back, figure, cv::NORM_INF), 0.0);  // PNG is lossless
}

TEST(Figure, OutlinesLieInsideTheBoxesOnTheInputPanelOnly) {
  // 64 pixels are enlarged 3 times: the box's pixel edges 8 and 24 fall on figure pixels 24 and 72.
  const std::vector<FigureOutline> outlines{{8, 8, 24, 24, kTargetPatchOutline},
                                            {60, 2, 80, 6, kOtherPatchOutline}};  // past the right edge
  const cv::Mat figure = draw_figure_row(grey_input(), {"input", "x"},
                                         {panel_with(cv::Mat(8, 8, CV_32FC1, cv::Scalar(0.5f)))}, outlines);
  const cv::Size input(kInputSize, kInputSize);
  const cv::Vec3b red = bgr(kTargetPatchOutline);
  for (const int edge : {24, 25, 70, 71}) {  // two figure pixels inside each edge
    EXPECT_EQ(image_part_pixel(figure, input, 0, {edge, 48}), red) << edge;
    EXPECT_EQ(image_part_pixel(figure, input, 0, {48, edge}), red) << edge;
  }
  for (const int beside : {23, 26, 69, 72})
    EXPECT_EQ(image_part_pixel(figure, input, 0, {beside, 48}), kMidGrey);
  EXPECT_EQ(image_part_pixel(figure, input, 0, {48, 48}), kMidGrey);
  // The clipped box keeps its left edge and runs to the image's edge.
  EXPECT_EQ(image_part_pixel(figure, input, 0, {180, 10}), bgr(kOtherPatchOutline));
  EXPECT_EQ(image_part_pixel(figure, input, 0, {191, 6}), bgr(kOtherPatchOutline));
  EXPECT_NE(image_part_pixel(figure, input, 1, {24, 48}), red);  // the method panels are not outlined

  const std::vector<FigureOutline> not_finite{{std::nanf(""), 0, 1, 1, kTargetPatchOutline}};
  EXPECT_THROW(draw_figure_row(grey_input(), {"input"}, {}, not_finite), Error);
}

// ---- sanity grids

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
const cv::Vec3b kWhite(255, 255, 255);

TEST(Figure, SanityGridIsStagesPlusOneRowsByMethodsPlusOneColumns) {
  const cv::Mat hot(8, 8, CV_32FC1, cv::Scalar(1.0f));
  const std::vector<FigurePanel> two_methods{panel_with(hot), panel_with(hot)};
  const std::vector<FigureGridRow> rows{{{"original", "demo_000000"}, two_methods},
                                        {{"+ classifier", "stage 1 of 3"}, two_methods},
                                        {{"+ head_conv", "stage 2 of 3"}, two_methods},
                                        {{"+ block4", "stage 3 of 3"}, two_methods}};
  const cv::Mat grid = draw_figure_grid(grey_input(), rows);
  const cv::Size panel = figure_panel_size({kInputSize, kInputSize}, 2);
  EXPECT_EQ(grid.type(), CV_8UC3);
  EXPECT_EQ(grid.cols, 3 * panel.width);
  EXPECT_EQ(grid.rows, 4 * panel.height);

  // The input once, in the first row; the stage rows' first column is only their title.
  EXPECT_EQ(pixel_at_input(grid, 0, 32, 32, 2, 0), kMidGrey);
  for (int row = 1; row < 4; ++row) EXPECT_EQ(pixel_at_input(grid, 0, 32, 32, 2, row), kWhite) << row;
  const cv::Vec3b stage_cell = pixel_at_input(grid, 2, 32, 32, 2, 3);
  EXPECT_GE(stage_cell[2] - stage_cell[0], 50) << stage_cell;  // every row's maps are overlaid: red for 1
}

TEST(Figure, SanityGridRowsShareOneStripHeightAndNanStagesAreGrey) {
  // The stage row has one title line, the first row two: both get two, so the images line up.
  const cv::Mat nan_map(8, 8, CV_32FC1, cv::Scalar(kNaN));
  const std::vector<FigureGridRow> rows{{{"original", "x"}, {panel_with(cv::Mat(8, 8, CV_32FC1, 0.5f))}},
                                        {{"+ classifier"}, {{{"grad_cam"}, nan_map}}}};
  const cv::Mat grid = draw_figure_grid(grey_input(), rows);
  EXPECT_EQ(grid.rows, 2 * figure_panel_size({kInputSize, kInputSize}, 2).height);
  EXPECT_EQ(pixel_at_input(grid, 1, 32, 32, 2, 1), kMidGrey);
}

TEST(Figure, RowIsTheOneRowGrid) {
  const std::vector<FigurePanel> panels{panel_with(cv::Mat(8, 8, CV_32FC1, cv::Scalar(0.7f)))};
  const cv::Mat row = draw_figure_row(grey_input(), {"input", "x"}, panels);
  const cv::Mat grid = draw_figure_grid(grey_input(), {{{"input", "x"}, panels}});
  ASSERT_EQ(row.size(), grid.size());
  EXPECT_EQ(cv::norm(row, grid, cv::NORM_INF), 0.0);
}

// ---- curve plots

// The pixel where the plot point (x, y) of the unit square lands, rounded as the plot rounds it.
cv::Point plot_pixel(const cv::Rect& area, double x, double y) {
  return {area.x + static_cast<int>(std::lround(x * (area.width - 1))),
          area.y + static_cast<int>(std::lround((1.0 - y) * (area.height - 1)))};
}

// Whether `pixel` is `colour`, allowing for anti-aliasing at the line's edge.
bool near_colour(const cv::Vec3b& pixel, const cv::Scalar& colour, int tolerance = 40) {
  for (int c = 0; c < 3; ++c) {
    if (std::abs(pixel[c] - static_cast<int>(colour[c])) > tolerance) return false;
  }
  return true;
}

CurvePlot plot_of(std::vector<CurveSeries> series) {
  return {"Deletion (lower is better), 3 items", "fraction of pixels deleted", "mean p_c", std::move(series)};
}

TEST(CurvePlot, SizeFollowsTheLayoutAndGrowsWithALongLegend) {
  const CurvePlotLayout layout;
  const cv::Mat plot = draw_curve_plot(plot_of({{"grad_cam", {1.0, 0.5, 0.0}, 0.5}}));
  EXPECT_EQ(plot.type(), CV_8UC3);
  // 72 left + 480 axes + 16 gap + 260 legend + 8 right; 40 title + 320 axes + 56 below.
  EXPECT_EQ(plot.size(), cv::Size(836, 416));
  EXPECT_EQ(plot.size(), curve_plot_geometry(1, layout).canvas);
  EXPECT_EQ(curve_plot_geometry(1, layout).plot_area, cv::Rect(72, 40, 480, 320));

  // The design study's 33 variants: 33 legend lines of 22 pixels below the 40-pixel title, 8 below them.
  EXPECT_EQ(curve_plot_geometry(33, layout).canvas, cv::Size(836, 40 + 33 * 22 + 8));
}

TEST(CurvePlot, ConstantCurvesRunAlongTheTopAndBottomEdges) {
  const cv::Mat plot = draw_curve_plot(plot_of({{"top", {1.0, 1.0, 1.0}, 1.0}, {"bottom", {0.0, 0.0}, 0.0}}));
  const cv::Rect area = curve_plot_geometry(2).plot_area;
  for (double x : {0.1, 0.3, 0.5, 0.7, 0.9}) {
    const cv::Point top = plot_pixel(area, x, 1.0), bottom = plot_pixel(area, x, 0.0);
    EXPECT_TRUE(near_colour(plot.at<cv::Vec3b>(top), curve_colour(0, 2)))
        << x << " " << plot.at<cv::Vec3b>(top);
    EXPECT_TRUE(near_colour(plot.at<cv::Vec3b>(bottom), curve_colour(1, 2)))
        << x << " " << plot.at<cv::Vec3b>(bottom);
  }
  // Halfway up, only the grid line at y = 0.5 and white: neither curve.
  const cv::Vec3b middle = plot.at<cv::Vec3b>(plot_pixel(area, 0.3, 0.4));
  EXPECT_EQ(middle, kWhite);
}

TEST(CurvePlot, RisingCurveFollowsTheDiagonal) {
  const cv::Mat plot = draw_curve_plot(plot_of({{"insertion", {0.0, 0.25, 0.5, 0.75, 1.0}, 0.5}}));
  const cv::Rect area = curve_plot_geometry(1).plot_area;
  for (double x : {0.1, 0.25, 0.4, 0.6, 0.75, 0.9}) {
    const cv::Vec3b on_diagonal = plot.at<cv::Vec3b>(plot_pixel(area, x, x));
    EXPECT_TRUE(near_colour(on_diagonal, curve_colour(0, 1))) << x << " " << on_diagonal;
  }
  // The other diagonal is crossed only in the middle.
  EXPECT_EQ(plot.at<cv::Vec3b>(plot_pixel(area, 0.2, 0.8)), kWhite);
  EXPECT_EQ(plot.at<cv::Vec3b>(plot_pixel(area, 0.8, 0.2)), kWhite);
}

TEST(CurvePlot, LegendFollowsTheGivenOrder) {
  const std::vector<CurveSeries> series{
      {"score_cam", {0.5, 0.5}, 0.5}, {"grad_cam", {0.25, 0.25}, 0.25}, {"pixab_cam", {0.75, 0.75}, 0.75}};
  const cv::Mat plot = draw_curve_plot(plot_of(series));
  const CurvePlotGeometry geometry = curve_plot_geometry(series.size());
  ASSERT_EQ(geometry.legend_swatches.size(), 3u);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const cv::Rect& swatch = geometry.legend_swatches[i];
    EXPECT_GT(swatch.y, i == 0 ? 0 : geometry.legend_swatches[i - 1].y);  // top to bottom
    const cv::Point centre(swatch.x + swatch.width / 2, swatch.y + swatch.height / 2);
    EXPECT_EQ(plot.at<cv::Vec3b>(centre), cv::Vec3b(cv::Vec3d(curve_colour(i, 3).val))) << i;
  }
  EXPECT_NE(curve_colour(0, 3), curve_colour(1, 3));
  EXPECT_NE(curve_colour(1, 3), curve_colour(2, 3));
  // Beyond Tableau's ten colours, hues are spread, so that neighbours still differ.
  EXPECT_NE(curve_colour(0, 33), curve_colour(1, 33));
  EXPECT_NE(curve_colour(10, 33), curve_colour(0, 33));
}

TEST(CurvePlot, LegendText) {
  EXPECT_EQ(curve_legend_text({"grad_cam", {1.0, 0.0}, 0.1234}), "grad_cam  AUC 0.123");
  EXPECT_EQ(curve_legend_text({"grad_cam", {1.0, 0.0}, std::nan("")}), "grad_cam  AUC n/a");
  EXPECT_EQ(curve_legend_text({"grad_cam", {}, 0.5}), "grad_cam  no curve");
}

TEST(CurvePlot, NonFiniteValuesAreRefused) {
  EXPECT_THROW(draw_curve_plot(plot_of({{"grad_cam", {1.0, std::nan("")}, 0.5}})), Error);
}

TEST(MeanCurve, SkipsFailedItemsAndRowsWithNaN) {
  const std::vector<float> curves{0.0f, 0.5f, 1.0f,   // ok
                                  kNaN, kNaN, kNaN,   // failed, NaN as the run writes it
                                  1.0f, 1.0f, 1.0f,   // failed, yet finite: still left out
                                  0.2f, kNaN, 0.4f,   // ok, but one point undefined
                                  0.4f, 0.3f, 0.2f};  // ok
  const MeanCurve mean = mean_curve(curves, 3, {true, false, false, true, true});
  ASSERT_EQ(mean.mean.size(), 3u);
  EXPECT_NEAR(mean.mean[0], 0.2, 1e-7);  // (0.0 + 0.4) / 2
  EXPECT_NEAR(mean.mean[1], 0.4, 1e-7);  // (0.5 + 0.3) / 2
  EXPECT_NEAR(mean.mean[2], 0.6, 1e-7);  // (1.0 + 0.2) / 2
  EXPECT_EQ(mean.rows, (std::vector<std::size_t>{0, 4}));
}

TEST(MeanCurve, NoUsableRowGivesNoCurve) {
  const MeanCurve mean = mean_curve({kNaN, kNaN, 0.5f, 0.5f}, 2, {true, false});
  EXPECT_TRUE(mean.mean.empty());
  EXPECT_TRUE(mean.rows.empty());
  EXPECT_TRUE(mean_curve({}, 11, {}).mean.empty());                      // a file with no items
  EXPECT_THROW(mean_curve({0.5f, 0.5f, 0.5f}, 2, {true, true}), Error);  // not [items, points]
}

// ---- pixab render

// The model of the hand-made results files: 16x16 inputs, no normalisation, classes Coat and Bag.
ModelMeta tiny_meta() {
  ModelMeta meta;
  meta.name = "tiny";
  meta.input_height = meta.input_width = 16;
  meta.mean = {0, 0, 0};
  meta.std = {1, 1, 1};
  meta.num_classes = 2;
  meta.labels = {"Coat", "Bag"};
  return meta;
}

// A results file of three 16x16 images (the last one failed) explained by two methods, with deletion and
// insertion curves of 5 points; `sanity`: a sanity-task file with 2 randomisation stages.
ResultsData small_results(const test::TempDir& dir, bool sanity) {
  const ModelMeta meta = tiny_meta();
  ResultsData data;
  data.text_attributes = {{"model_meta", model_meta_to_json(meta)},
                          {"methods", "pixab_cam,grad_cam"},
                          {"task", sanity ? "sanity" : "natural"}};
  for (int i = 0; i < 3; ++i) {
    ItemRecord item;
    item.id = "JPEGImages/img_" + std::to_string(i) + ".png";
    item.source = dir.file(item.id);
    item.status = i < 2 ? ItemStatus::kOk : ItemStatus::kMissing;
    item.target = 0;
    item.target_prob = 0.9f;
    if (i < 2) write_figure_png(item.source, cv::Mat(16, 16, CV_8UC3, cv::Scalar::all(128)));
    data.items.push_back(item);
  }
  for (const std::string method : {"grad_cam", "pixab_cam"}) {
    data.arrays["maps/" + method] = {{3, 4, 4}, std::vector<float>(3 * 16, 0.5f)};
    data.arrays["curves/" + method + "/deletion"] = {{3, 5}, std::vector<float>(15, 0.25f)};
    data.arrays["curves/" + method + "/insertion"] = {{3, 5}, std::vector<float>(15, 0.75f)};
    if (!sanity) continue;
    data.arrays["sanity/" + method + "/maps"] = {{3, 2, 4, 4}, std::vector<float>(3 * 2 * 16, 0.25f)};
    data.arrays["sanity/" + method + "/spearman"] = {{3, 2}, {0.9f, 0.1f, 0.8f, 0.2f, kNaN, kNaN}};
  }
  if (sanity) data.text_attributes["sanity_stages"] = "classifier,conv";
  return data;
}

// Runs `pixab render <results> --out <out>` as the executable would; throws what the command throws.
void run_render(const std::string& results, const std::string& out) {
  CLI::App app;
  const Command command = add_render_command(app);
  app.parse("render " + results + " --out " + out, /*program_name_included=*/false);
  EXPECT_EQ(command.action(), 0);
}

cv::Size png_size(const std::string& path) { return cv::imread(path, cv::IMREAD_COLOR).size(); }

using Names = std::vector<std::string>;
Names sorted_file_names(const std::string& folder) {
  Names names;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(Render, NaturalFileGetsItemFiguresAndCurvePlots) {
  const test::TempDir dir("render_natural");
  write_results_file(dir.file("results.h5"), small_results(dir, /*sanity=*/false));
  run_render(dir.file("results.h5"), dir.file("out"));
  const Names expected{"JPEGImages_img_0.png", "JPEGImages_img_1.png", "curves_deletion.png",
                       "curves_insertion.png"};  // the failed item has no figure
  EXPECT_EQ(sorted_file_names(dir.file("out")), expected);
  const cv::Size panel = figure_panel_size({16, 16}, 2);
  EXPECT_EQ(png_size(dir.file("out/JPEGImages_img_0.png")), cv::Size(3 * panel.width, panel.height));
  EXPECT_EQ(png_size(dir.file("out/curves_deletion.png")), curve_plot_geometry(2).canvas);
}

TEST(Render, SanityFileGetsOneGridPerItem) {
  const test::TempDir dir("render_sanity");
  write_results_file(dir.file("results.h5"), small_results(dir, /*sanity=*/true));
  run_render(dir.file("results.h5"), dir.file("out"));
  const Names expected{"curves_deletion.png", "curves_insertion.png", "sanity_JPEGImages_img_0.png",
                       "sanity_JPEGImages_img_1.png"};
  EXPECT_EQ(sorted_file_names(dir.file("out")), expected);
  // Rows: original, classifier, conv; columns: the first column, pixab_cam, grad_cam.
  const cv::Size panel = figure_panel_size({16, 16}, 2);
  EXPECT_EQ(png_size(dir.file("out/sanity_JPEGImages_img_1.png")),
            cv::Size(3 * panel.width, 3 * panel.height));
}

TEST(Render, CurvesOfTheWrongShapeNameTheFileAndPath) {
  const test::TempDir dir("render_bad_curves");
  ResultsData data = small_results(dir, /*sanity=*/false);
  data.arrays["curves/grad_cam/insertion"] = {{2, 5}, std::vector<float>(10, 0.5f)};  // 2 rows for 3 items
  write_results_file(dir.file("results.h5"), data);
  try {
    run_render(dir.file("results.h5"), dir.file("out"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("results.h5")), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("curves/grad_cam/insertion"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));  // checked before any figure is written
}

// ---- pixab render: adversarial files

// 16x16 examples enlarged 12 times: patch A (2,2)-(6,6) has figure edges 24 and 72, patch B (9,8)-(14,13)
// 108..168 across and 96..156 down.
const cv::Point kInsideA(48, 48), kEdgeA(24, 48), kEdgeB(108, 120), kOutside(90, 180);
const cv::Vec3b kExampleBgr(50, 100, 200);

// A results file of task `task` explained by grad_cam, each example (16x16, RGB 200,100,50 and 20,40,60) with
// patches A and B. dap2: rows ae_0#t0 (region A) and ae_0#t1 (region B) share example 0; dap1: row img_0
// (region -1, both patches). Last, a row of example 1 whose attack failed (NaN maps). The rows' sources do
// not exist: an adversarial figure is drawn from the file alone.
ResultsData adversarial_results(const test::TempDir& dir, const std::string& task) {
  const ModelMeta meta = tiny_meta();
  ResultsData data;
  data.text_attributes = {{"model_meta", model_meta_to_json(meta)}, {"methods", "grad_cam"}, {"task", task}};
  const bool dap2 = task == "dap2";
  const std::vector<std::string> ids = dap2 ? Names{"AE2/ae_0#t0", "AE2/ae_0#t1", "AE2/ae_1#t0"}
                                            : Names{"JPEGImages/img_0.png", "JPEGImages/img_1.png"};
  const std::size_t rows = ids.size();
  std::vector<std::int32_t> example, region;
  std::vector<float> maps, patches;
  for (std::size_t row = 0; row < rows; ++row) {
    ItemRecord item;
    item.id = ids[row];
    item.source = dir.file("no_such_image.png");
    const bool failed = row + 1 == rows;
    item.status = failed ? ItemStatus::kAttackFailed : ItemStatus::kOk;
    item.target = 1;
    item.target_prob = failed ? 0.1f : 0.8f;
    data.items.push_back(item);
    example.push_back(failed ? 1 : 0);
    region.push_back(dap2 ? static_cast<std::int32_t>(row % 2) : -1);
    maps.insert(maps.end(), 16, failed ? kNaN : 0.5f);
    patches.insert(patches.end(), {2, 2, 6, 6, 9, 8, 14, 13});
  }
  std::vector<std::uint8_t> pixels;
  for (const cv::Scalar& rgb : {cv::Scalar(200, 100, 50), cv::Scalar(20, 40, 60)}) {
    const cv::Mat image(16, 16, CV_8UC3, rgb);
    pixels.insert(pixels.end(), image.datastart, image.dataend);
  }
  data.arrays["maps/grad_cam"] = {{rows, 4, 4}, maps};
  data.arrays["adversarial/image"] = {{2, 16, 16, 3}, pixels};  // dap2: fewer examples than rows
  data.arrays["adversarial/image_index"] = {{rows}, example};
  data.arrays["adversarial/patches"] = {{rows, 2, 4}, patches};
  data.arrays["adversarial/patch_count"] = {{rows}, std::vector<std::int32_t>(rows, 2)};
  data.arrays["adversarial/region"] = {{rows}, region};
  return data;
}

TEST(Render, Dap2RowsShowTheirExampleWithTheirRegionOutlined) {
  const test::TempDir dir("render_dap2");
  write_results_file(dir.file("results.h5"), adversarial_results(dir, "dap2"));
  run_render(dir.file("results.h5"), dir.file("out"));
  // One figure per ok row, "#t<k>" kept as "_t<k>"; the failed attack has none.
  EXPECT_EQ(sorted_file_names(dir.file("out")), (Names{"AE2_ae_0_t0.png", "AE2_ae_0_t1.png"}));
  const cv::Size input(16, 16), panel = figure_panel_size(input, 2);
  const cv::Vec3b red = bgr(kTargetPatchOutline), cyan = bgr(kOtherPatchOutline);
  for (const auto& [name, edge_a, edge_b] :
       {std::tuple{"AE2_ae_0_t0.png", red, cyan}, std::tuple{"AE2_ae_0_t1.png", cyan, red}}) {
    const cv::Mat figure = cv::imread(dir.file("out/") + name, cv::IMREAD_COLOR);
    ASSERT_EQ(figure.size(), cv::Size(2 * panel.width, panel.height)) << name;
    EXPECT_EQ(image_part_pixel(figure, input, 0, kInsideA), kExampleBgr) << name;
    EXPECT_EQ(image_part_pixel(figure, input, 0, kOutside), kExampleBgr) << name;
    EXPECT_EQ(image_part_pixel(figure, input, 0, kEdgeA), edge_a) << name;
    EXPECT_EQ(image_part_pixel(figure, input, 0, kEdgeB), edge_b) << name;
    EXPECT_NE(image_part_pixel(figure, input, 1, kEdgeA), edge_a) << name;  // the map panel: no outline
  }
}

TEST(Render, Dap1RowOutlinesEveryPatchAsItsRegion) {
  const test::TempDir dir("render_dap1");
  write_results_file(dir.file("results.h5"), adversarial_results(dir, "dap1"));
  run_render(dir.file("results.h5"), dir.file("out"));
  EXPECT_EQ(sorted_file_names(dir.file("out")), (Names{"JPEGImages_img_0.png"}));
  const cv::Mat figure = cv::imread(dir.file("out/JPEGImages_img_0.png"), cv::IMREAD_COLOR);
  const cv::Size input(16, 16);
  EXPECT_EQ(image_part_pixel(figure, input, 0, kInsideA), kExampleBgr);
  EXPECT_EQ(image_part_pixel(figure, input, 0, kEdgeA), bgr(kTargetPatchOutline));
  EXPECT_EQ(image_part_pixel(figure, input, 0, kEdgeB), bgr(kTargetPatchOutline));
}

TEST(Render, AdversarialRowOutOfRangeNamesTheFileAndPath) {
  const test::TempDir dir("render_dap_bad");
  ResultsData data = adversarial_results(dir, "dap2");
  data.arrays["adversarial/region"] = {{3}, std::vector<std::int32_t>{0, 2, 0}};  // row 1 has patches 0 and 1
  write_results_file(dir.file("results.h5"), data);
  try {
    run_render(dir.file("results.h5"), dir.file("out"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("adversarial/region of row 1 (AE2/ae_0#t1)"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

}  // namespace
}  // namespace pixab
