// The report's table model from synthetic results files: hand-checked means, failed items, method order, best
// marks, dataset and stage columns.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "io/results_file.hpp"
#include "pipeline/report_tables.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

ResultsData results_with_items(const std::vector<ItemStatus>& statuses) {
  ResultsData data;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    ItemRecord item;
    item.id = "item" + std::to_string(i);
    item.status = statuses[i];
    data.items.push_back(item);
  }
  return data;
}

FloatArray column_of(std::vector<float> values) { return {{values.size()}, std::move(values)}; }

// IMGN: 4 items, the last failed (its values must never count). `methods` lists score_cam before grad_cam;
// ablation_cam and activation_cam have arrays only.
ResultsData imgn_results() {
  ResultsData data =
      results_with_items({ItemStatus::kOk, ItemStatus::kOk, ItemStatus::kOk, ItemStatus::kMissing});
  data.text_attributes = {{"task", "natural"},
                          {"dataset_label", "IMGN"},
                          {"methods", "score_cam,grad_cam"},
                          {"model_path", "models/resnet.pt"},
                          {"model_sha256", "0123456789abcdef0123"},
                          {"dataset", "/data/imagenet"},
                          {"created", "2024-05-01T12:00:00Z"},
                          {"software_version", "v1.0"}};
  data.arrays["metrics/grad_cam/average_drop"] = column_of({10, 20, kNaN, 99});
  data.arrays["metrics/score_cam/average_drop"] = column_of({30, 30, 30, 0});
  data.arrays["metrics/grad_cam/increase_in_confidence"] = column_of({0, 1, 1, 1});
  data.arrays["metrics/score_cam/increase_in_confidence"] = column_of({1, 1, 0, 0});
  data.arrays["metrics/grad_cam/compactness"] = column_of({1, 2, 3, kNaN});
  data.arrays["metrics/score_cam/compactness"] = column_of({4, 5, 6, kNaN});
  data.arrays["metrics/activation_cam/deletion_auc"] = column_of({0.3f, 0.3f, 0.3f, kNaN});
  data.arrays["metrics/ablation_cam/deletion_auc"] = column_of({0.1f, 0.2f, 0.3f, kNaN});
  data.arrays["metrics/ablation_cam/insertion_auc"] = column_of({0.5f, 0.5f, 0.8f, kNaN});
  data.arrays["maps/grad_cam"] = {{4, 2, 2}, std::vector<float>(16, 0.5f)};  // not tabulated
  return data;
}

// VOC: two ok items, average drop of grad_cam only.
ResultsData voc_results() {
  ResultsData data = results_with_items({ItemStatus::kOk, ItemStatus::kOk});
  data.text_attributes = {{"task", "natural"}, {"dataset_label", "VOC"}, {"methods", "grad_cam,score_cam"}};
  data.arrays["metrics/grad_cam/average_drop"] = column_of({40, 50});
  return data;
}

// A sanity run: 3 items (the last failed), 3 stages named by sanity_stages.
ResultsData sanity_results() {
  ResultsData data = results_with_items({ItemStatus::kOk, ItemStatus::kOk, ItemStatus::kModelError});
  data.text_attributes = {{"task", "sanity"},
                          {"dataset_label", "MOD"},
                          {"methods", "grad_cam"},
                          {"sanity_stages", "logits,conv2,conv1"}};
  data.arrays["sanity/grad_cam/spearman"] = {{3, 3}, {0.9f, 0.5f, 0.1f, 0.7f, 0.3f, kNaN, 5, 5, 5}};
  data.arrays["sanity/grad_cam/ssim"] = {{3, 3}, {1, 1, 1, 0.5f, 0.5f, 0.5f, 5, 5, 5}};
  data.arrays["sanity/grad_cam/maps"] = {{3, 3, 1, 1}, std::vector<float>(9, 0.5f)};
  return data;
}

class ReportTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const ResultsData& data) {
    const std::string path = dir_.file(name);
    write_results_file(path, data);
    return path;
  }
  std::vector<std::string> write_all() {
    return {write("imgn.h5", imgn_results()), write("voc.h5", voc_results()),
            write("mod.h5", sanity_results())};
  }

  test::TempDir dir_{"report"};
};

const ReportTable& table_with_title(const std::vector<ReportTable>& tables, const std::string& title_start) {
  for (const ReportTable& table : tables) {
    if (table.title.rfind(title_start, 0) == 0) return table;
  }
  throw std::runtime_error("no table titled " + title_start);
}

const ReportColumn& column_of(const ReportTable& table, const std::string& dataset,
                              const std::string& metric) {
  for (const ReportColumn& column : table.columns) {
    if (column.dataset == dataset && column.metric == metric) return column;
  }
  throw std::runtime_error("no column " + dataset + "/" + metric + " in " + table.id);
}

const ReportCell& cell_of(const ReportTable& table, const std::string& method, const std::string& dataset,
                          const std::string& metric) {
  const auto row = std::find(table.methods.begin(), table.methods.end(), method) - table.methods.begin();
  return column_of(table, dataset, metric).cells.at(static_cast<std::size_t>(row));
}

TEST_F(ReportTest, Table3MeansUseOkItemsWithDefinedValues) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  const ReportTable& table3 = table_with_title(tables, "Table 3");
  EXPECT_EQ(table3.id, "table3");
  const MeanInterval ad = cell_of(table3, "grad_cam", "IMGN", "average_drop").value;
  EXPECT_DOUBLE_EQ(ad.mean, 15.0);  // {10, 20, NaN}; the failed item's 99 is left out
  EXPECT_EQ(ad.n, 2u);
  EXPECT_GE(ad.low, 10.0);
  EXPECT_LE(ad.high, 20.0);
  const MeanInterval iic = cell_of(table3, "grad_cam", "IMGN", "increase_in_confidence").value;
  EXPECT_NEAR(iic.mean, 200.0 / 3, 1e-12);  // 100 * mean {0, 1, 1}
  EXPECT_EQ(iic.n, 3u);
  EXPECT_DOUBLE_EQ(cell_of(table3, "score_cam", "IMGN", "compactness").value.mean, 5.0);
  EXPECT_DOUBLE_EQ(cell_of(table3, "grad_cam", "VOC", "average_drop").value.mean, 45.0);
  EXPECT_EQ(cell_of(table3, "score_cam", "VOC", "average_drop").value.n, 0u);  // no array in VOC
  EXPECT_TRUE(std::isnan(cell_of(table3, "score_cam", "VOC", "average_drop").value.mean));
}

TEST_F(ReportTest, RowsFollowTheMethodsAttributeThenArraysAlphabetically) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  EXPECT_EQ(table_with_title(tables, "Table 3").methods, (std::vector<std::string>{"score_cam", "grad_cam"}));
  EXPECT_EQ(table_with_title(tables, "Table 4").methods,
            (std::vector<std::string>{"ablation_cam", "activation_cam"}));
}

TEST_F(ReportTest, ColumnsAreMetricsByFileLabelledFromDatasetLabel) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  const ReportTable& table3 = table_with_title(tables, "Table 3");
  std::vector<std::string> headings;
  for (const ReportColumn& column : table3.columns) headings.push_back(column.heading);
  // VOC has no IIC or compactness arrays, so no such columns.
  EXPECT_EQ(headings,
            (std::vector<std::string>{"AD (%) IMGN", "AD (%) VOC", "IIC (%) IMGN", "Compactness IMGN"}));
}

TEST_F(ReportTest, BestIsMarkedInTheMetricsDirectionWithTiesAndNotForCompactness) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  const ReportTable& table3 = table_with_title(tables, "Table 3");
  EXPECT_TRUE(cell_of(table3, "grad_cam", "IMGN", "average_drop").best);  // 15 < 30: lower is better
  EXPECT_FALSE(cell_of(table3, "score_cam", "IMGN", "average_drop").best);
  EXPECT_TRUE(cell_of(table3, "grad_cam", "IMGN", "increase_in_confidence").best);  // 66.67 both: a tie
  EXPECT_TRUE(cell_of(table3, "score_cam", "IMGN", "increase_in_confidence").best);
  EXPECT_TRUE(cell_of(table3, "grad_cam", "VOC", "average_drop").best);  // the only value
  EXPECT_FALSE(cell_of(table3, "score_cam", "VOC", "average_drop").best);
  for (const ReportCell& cell : column_of(table3, "IMGN", "compactness").cells) EXPECT_FALSE(cell.best);

  const ReportTable& table4 = table_with_title(tables, "Table 4");
  EXPECT_TRUE(cell_of(table4, "ablation_cam", "IMGN", "deletion_auc").best);  // 0.2 < 0.3: lower is better
  EXPECT_FALSE(cell_of(table4, "activation_cam", "IMGN", "deletion_auc").best);
  EXPECT_TRUE(cell_of(table4, "ablation_cam", "IMGN", "insertion_auc").best);
  EXPECT_EQ(cell_of(table4, "activation_cam", "IMGN", "insertion_auc").value.n, 0u);
}

TEST_F(ReportTest, TablesWithoutArraysAreLeftOut) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  std::vector<std::string> ids;
  for (const ReportTable& table : tables) ids.push_back(table.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"table3", "table4", "sanity", "sanity"}));
}

TEST_F(ReportTest, SanityFileGivesStageColumnsWithoutMarks) {
  const auto tables = build_report_tables(load_report_inputs(write_all()), {});
  const ReportTable& spearman = table_with_title(tables, "Sanity check (Sec. 5.3, Fig. 11): Spearman");
  EXPECT_EQ(spearman.methods, std::vector<std::string>{"grad_cam"});
  ASSERT_EQ(spearman.columns.size(), 3u);
  const std::vector<std::string> stages{"logits", "conv2", "conv1"};
  const std::vector<double> means{0.8, 0.4, 0.1};
  const std::vector<std::size_t> counts{2, 2, 1};
  for (std::size_t s = 0; s < 3; ++s) {
    const ReportColumn& column = spearman.columns[s];
    EXPECT_EQ(column.heading, stages[s]);
    EXPECT_EQ(column.metric, "spearman/" + stages[s]);
    EXPECT_EQ(column.dataset, "MOD");
    EXPECT_NEAR(column.cells[0].value.mean, means[s], 1e-6);
    EXPECT_EQ(column.cells[0].value.n, counts[s]);
    EXPECT_FALSE(column.cells[0].best);
  }
  const ReportTable& ssim = table_with_title(tables, "Sanity check (Sec. 5.3, Fig. 11): SSIM");
  EXPECT_DOUBLE_EQ(ssim.columns[2].cells[0].value.mean, 0.75);
}

TEST_F(ReportTest, StagesAreNumberedWithoutSanityStagesAndLabelsFallBackToTheStem) {
  ResultsData sanity = sanity_results();
  sanity.text_attributes.erase("sanity_stages");
  sanity.text_attributes.erase("dataset_label");
  ResultsData imgn = imgn_results();
  const auto inputs = load_report_inputs(
      {write("randomised.h5", sanity), write("a/imgn.h5", imgn), write("b/imgn.h5", imgn)});
  EXPECT_EQ(inputs[0].label, "randomised");
  EXPECT_EQ(inputs[1].label, "IMGN");
  EXPECT_EQ(inputs[2].label, "IMGN-2");  // same label twice: made unique
  const auto tables = build_report_tables(inputs, {});
  const ReportTable& spearman = table_with_title(tables, "Sanity check");
  EXPECT_EQ(spearman.columns[0].heading, "1");
  EXPECT_EQ(spearman.columns[2].metric, "spearman/3");
}

// Interval ends of every cell of a table set, in cell order.
std::vector<double> interval_ends(const std::vector<ReportTable>& tables) {
  std::vector<double> ends;
  for (const ReportTable& table : tables) {
    for (const ReportColumn& column : table.columns) {
      for (const ReportCell& cell : column.cells) {
        ends.push_back(cell.value.low);
        ends.push_back(cell.value.high);
      }
    }
  }
  return ends;
}

TEST_F(ReportTest, BootstrapIsPerCellAndSeeded) {
  const auto inputs = load_report_inputs({write("imgn.h5", imgn_results())});
  const ReportTable first = table_with_title(build_report_tables(inputs, {200, 3}), "Table 3");
  const ReportTable again = table_with_title(build_report_tables(inputs, {200, 3}), "Table 3");
  const ReportTable other_seed = table_with_title(build_report_tables(inputs, {200, 4}), "Table 3");
  EXPECT_EQ(interval_ends({first}), interval_ends({again}));
  EXPECT_NE(interval_ends({first}), interval_ends({other_seed}));

  // A new method adds rows but leaves the other cells' intervals alone.
  ResultsData more = imgn_results();
  more.arrays["metrics/xgrad_cam/average_drop"] = column_of({1, 2, 3, kNaN});
  const auto more_inputs = load_report_inputs({write("more.h5", more)});
  const ReportTable extended = table_with_title(build_report_tables(more_inputs, {200, 3}), "Table 3");
  ASSERT_EQ(extended.methods.back(), "xgrad_cam");
  const ReportCell& before = cell_of(first, "grad_cam", "IMGN", "average_drop");
  const ReportCell& after = cell_of(extended, "grad_cam", "IMGN", "average_drop");
  EXPECT_EQ(before.value.low, after.value.low);
  EXPECT_EQ(before.value.high, after.value.high);
}

TEST_F(ReportTest, UnreadableAndMalformedFilesAreNamed) {
  const std::string garbage = dir_.file("garbage.h5");
  std::ofstream(garbage) << "not HDF5";
  try {
    load_report_inputs({garbage});
    ADD_FAILURE() << "expected an IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("garbage.h5"), std::string::npos) << error.what();
  }
  ResultsData wrong_length = imgn_results();
  wrong_length.arrays["metrics/grad_cam/loc_iou"] = column_of({0.5f, 0.5f});  // 2 values for 4 items
  try {
    load_report_inputs({write("wrong.h5", wrong_length)});
    ADD_FAILURE() << "expected an IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("/metrics/grad_cam/loc_iou has shape [2]"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace pixab
