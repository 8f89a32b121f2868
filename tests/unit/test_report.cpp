// `pixab report`: the table model from synthetic results files, and its Markdown, CSV and JSON renderings.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/error.hpp"
#include "io/results_file.hpp"
#include "pipeline/report.hpp"
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

TypedArray column_of(std::vector<float> values) { return {{values.size()}, std::move(values)}; }

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

constexpr const char* kPixabVariants =
    "pixab_cam@d11: boxes=1x1 padding=full terms=deletion score=prob strict=false\n"
    "pixab_cam@p21: boxes=2x1 padding=full terms=preservation score=prob strict=false\n"
    "pixab_cam@b12: boxes=1x2 padding=full terms=both score=prob strict=false\n"
    "pixab_cam@bad: boxes=nine\n"  // does not parse: left out with a warning
    "pixab_cam: boxes=1x1,1x2 padding=full terms=both score=prob strict=false";

// DAP2: 4 rows, the third attack_failed (its values must never count). grad_cam and activation_cam have
// channel weights (cop); activation_cam has no doa. The Pixab-CAM variants are one per table 7-10.
ResultsData dap2_results() {
  ResultsData data =
      results_with_items({ItemStatus::kOk, ItemStatus::kOk, ItemStatus::kAttackFailed, ItemStatus::kOk});
  data.text_attributes = {
      {"task", "dap2"},
      {"dataset_label", "ADV"},
      {"methods", "grad_cam,activation_cam,pixab_cam,pixab_cam@d11,pixab_cam@p21,pixab_cam@b12"},
      {"pixab_variants", kPixabVariants}};
  data.arrays["metrics/grad_cam/dap2_pointing_game"] = column_of({1, 0, 1, 0});
  data.arrays["metrics/grad_cam/dap2_proportion"] = column_of({40, 60, 99, kNaN});
  data.arrays["metrics/grad_cam/doa"] = column_of({0.2f, 0.4f, 2, 0.6f});
  data.arrays["metrics/grad_cam/cop"] = column_of({3, 5, 100, 4});
  data.arrays["metrics/grad_cam/average_drop"] = column_of({1, 1, 1, 1});  // a natural metric: no Table 3
  data.arrays["metrics/activation_cam/dap2_pointing_game"] = column_of({0, 0, 1, 0});
  data.arrays["metrics/activation_cam/dap2_proportion"] = column_of({10, 10, 10, 10});
  data.arrays["metrics/activation_cam/cop"] = column_of({10, 20, 0, 30});
  for (const char* variant : {"pixab_cam", "pixab_cam@d11", "pixab_cam@p21", "pixab_cam@b12"}) {
    const std::string method = variant;
    data.arrays["metrics/" + method + "/dap2_pointing_game"] = column_of({1, 1, 0, 1});
    data.arrays["metrics/" + method + "/dap2_proportion"] = column_of({80, 70, 0, 90});
    data.arrays["metrics/" + method + "/doa"] = column_of({1, 1, 1, 0.5f});
  }
  data.arrays["metrics/pixab_cam@d11/dap2_proportion"] = column_of({20, 30, 0, 40});
  return data;
}

// DAP1: 3 rows, the second attack_failed.
ResultsData dap1_results() {
  ResultsData data = results_with_items({ItemStatus::kOk, ItemStatus::kAttackFailed, ItemStatus::kOk});
  data.text_attributes = {{"task", "dap1"},
                          {"dataset_label", "ADV"},
                          {"methods", "grad_cam,pixab_cam@d11"},
                          {"pixab_variants", kPixabVariants}};
  data.arrays["metrics/grad_cam/dap1_pointing_game"] = column_of({1, 0, 1});
  data.arrays["metrics/grad_cam/dap1_proportion"] = column_of({30, 99, 50});
  data.arrays["metrics/pixab_cam@d11/dap1_pointing_game"] = column_of({0, 1, 1});
  data.arrays["metrics/pixab_cam@d11/dap1_proportion"] = column_of({20, 0, kNaN});
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
  std::string render(ReportFormat format, const BootstrapSettings& bootstrap = {}) {
    const auto inputs = load_report_inputs(write_all());
    std::ostringstream out;
    write_report(inputs, build_report_tables(inputs, bootstrap), format, bootstrap, out);
    return out.str();
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

TEST_F(ReportTest, MeansEqualAtTheShownDecimalsAreAllMarked) {
  ResultsData data = results_with_items({ItemStatus::kOk, ItemStatus::kOk});
  data.text_attributes = {{"task", "natural"}, {"dataset_label", "DEMO"}, {"methods", "a,b,c"}};
  // Deletion is shown with 3 decimals: 0.1069 and 0.1072 both read 0.107, the best; 0.1076 reads 0.108.
  data.arrays["metrics/a/deletion_auc"] = column_of({0.1069f, 0.1069f});
  data.arrays["metrics/b/deletion_auc"] = column_of({0.1072f, 0.1072f});
  data.arrays["metrics/c/deletion_auc"] = column_of({0.1076f, 0.1076f});
  const auto inputs = load_report_inputs({write("demo.h5", data)});
  const auto tables = build_report_tables(inputs, {});
  const ReportTable& table4 = table_with_title(tables, "Table 4");
  EXPECT_TRUE(cell_of(table4, "a", "DEMO", "deletion_auc").best);
  EXPECT_TRUE(cell_of(table4, "b", "DEMO", "deletion_auc").best);  // not the exact best, but shown the same
  EXPECT_FALSE(cell_of(table4, "c", "DEMO", "deletion_auc").best);

  std::ostringstream md;
  write_report(inputs, tables, ReportFormat::kMarkdown, {}, md);
  EXPECT_NE(md.str().find("| a | **0.107** ["), std::string::npos) << md.str();
  EXPECT_NE(md.str().find("| b | **0.107** ["), std::string::npos);
  EXPECT_NE(md.str().find("| c | 0.108 ["), std::string::npos);
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

// The demo lists a natural and a sanity file, both labelled DEMO: they never share a table, so the sanity
// file keeps its label, and with it its cell keys and intervals.
TEST_F(ReportTest, SanityCellsDoNotDependOnANaturalFileWithTheSameLabel) {
  // 40 items, so that the intervals depend on the draws (two values leave hardly any choice).
  ResultsData sanity = results_with_items(std::vector<ItemStatus>(40, ItemStatus::kOk));
  sanity.text_attributes = sanity_results().text_attributes;
  std::vector<float> values;
  for (int i = 0; i < 40 * 3; ++i) values.push_back(static_cast<float>((i * 37) % 11) / 10);
  sanity.arrays["sanity/grad_cam/spearman"] = {{40, 3}, values};
  sanity.arrays["sanity/grad_cam/ssim"] = {{40, 3}, values};
  ResultsData natural = imgn_results();
  natural.text_attributes["dataset_label"] = "MOD";
  const std::string sanity_path = write("mod.h5", sanity);
  const auto alone = load_report_inputs({sanity_path});
  const auto both = load_report_inputs({write("natural.h5", natural), sanity_path});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].label, "MOD");
  EXPECT_EQ(both[1].label, "MOD");

  const auto sanity_ends = [](const std::vector<ReportInput>& inputs) {
    std::vector<ReportTable> kept;
    for (ReportTable& table : build_report_tables(inputs, {200, 3})) {
      if (table.id == "sanity") kept.push_back(std::move(table));
    }
    EXPECT_EQ(kept.size(), 2u);
    return interval_ends(kept);
  };
  EXPECT_EQ(sanity_ends(both), sanity_ends(alone));
  // What a renamed label would have done: other keys, other intervals.
  auto renamed = alone;
  renamed[0].label = "MOD-2";
  EXPECT_NE(sanity_ends(renamed), sanity_ends(alone));
}

TEST_F(ReportTest, MarkdownShowsCellsBestAndMissingValues) {
  const std::string md = render(ReportFormat::kMarkdown);
  EXPECT_NE(md.find("## Table 3: AD, IIC and Compactness"), std::string::npos) << md;
  EXPECT_NE(md.find("| method | AD (%) IMGN | AD (%) VOC | IIC (%) IMGN | Compactness IMGN |"),
            std::string::npos);
  EXPECT_NE(md.find("| score_cam | 30.00 [30.00, 30.00] n=3 | – | **66.67** ["), std::string::npos) << md;
  EXPECT_NE(md.find("| grad_cam | **15.00** ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 5.000 [4.000, 6.000] n=3 |"), std::string::npos) << md;  // compactness, never bold
  EXPECT_NE(md.find("| IMGN | natural | "), std::string::npos);
  EXPECT_NE(md.find("0123456789ab |"), std::string::npos);  // sha256 shortened to 12 hex digits
  EXPECT_NE(md.find("3 ok, 1 missing (4 total)"), std::string::npos);
  EXPECT_NE(md.find("| logits | conv2 | conv1 |"), std::string::npos);
  EXPECT_NE(md.find("Compactness is not marked"), std::string::npos);
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string field; std::getline(cells, field, ',');) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    rows.push_back(fields);
  }
  return rows;
}

TEST_F(ReportTest, CsvAndJsonHoldTheSameCells) {
  const auto csv = parse_csv(render(ReportFormat::kCsv));
  const nlohmann::json json = nlohmann::json::parse(render(ReportFormat::kJson));
  ASSERT_EQ(csv.at(0), (std::vector<std::string>{"table", "dataset", "method", "metric", "mean", "ci_low",
                                                 "ci_high", "n", "best"}));
  const nlohmann::json& cells = json.at("cells");
  // Table 3: 2 methods x 4 columns; Table 4: 2 x 2; sanity: 1 x 3, twice.
  ASSERT_EQ(cells.size(), 8u + 4u + 6u);
  ASSERT_EQ(csv.size(), cells.size() + 1);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& row = csv[i + 1];
    const nlohmann::json& cell = cells[i];
    ASSERT_EQ(row.size(), 9u);
    EXPECT_EQ(row[0], cell.at("table"));
    EXPECT_EQ(row[1], cell.at("dataset"));
    EXPECT_EQ(row[2], cell.at("method"));
    EXPECT_EQ(row[3], cell.at("metric"));
    EXPECT_EQ(std::stoul(row[7]), cell.at("n").get<std::size_t>());
    EXPECT_EQ(row[8], std::to_string(cell.at("best").get<int>()));
    for (const auto& [field, key] : {std::pair{4, "mean"}, std::pair{5, "ci_low"}, std::pair{6, "ci_high"}}) {
      if (cell.at(key).is_null()) {
        EXPECT_EQ(row[field], "");
      } else {
        EXPECT_NEAR(std::stod(row[field]), cell.at(key).get<double>(),
                    1e-7 * std::abs(cell.at(key).get<double>()));
      }
    }
  }
  EXPECT_EQ(csv[1], (std::vector<std::string>{"table3", "IMGN", "score_cam", "average_drop", "30", "30", "30",
                                              "3", "0"}));
  EXPECT_EQ(cells[1].at("dataset"), "VOC");  // score_cam has no VOC value: null, n = 0
  EXPECT_TRUE(cells[1].at("mean").is_null());
  EXPECT_EQ(cells[1].at("n"), 0);

  const nlohmann::json& imgn = json.at("files").at(0);
  EXPECT_EQ(imgn.at("label"), "IMGN");
  EXPECT_EQ(imgn.at("task"), "natural");
  EXPECT_EQ(imgn.at("items").at("ok"), 3);
  EXPECT_EQ(imgn.at("items").at("missing"), 1);
  EXPECT_EQ(imgn.at("model_sha256"), "0123456789abcdef0123");
  EXPECT_EQ(json.at("files").at(2).at("task"), "sanity");
}

std::vector<std::string> table_ids(const std::vector<ReportTable>& tables) {
  std::vector<std::string> ids;
  for (const ReportTable& table : tables) ids.push_back(table.id);
  return ids;
}

TEST_F(ReportTest, AdversarialFilesGiveTables1And2And6To10FromOkRows) {
  const auto inputs = load_report_inputs(
      {write("imgn.h5", imgn_results()), write("dap1.h5", dap1_results()), write("dap2.h5", dap2_results())});
  const auto tables = build_report_tables(inputs, {});
  EXPECT_EQ(table_ids(tables), (std::vector<std::string>{"table1", "table2", "table3", "table4", "table6",
                                                         "table7", "table8", "table9", "table10"}));

  const ReportTable& table1 = table_with_title(tables, "Table 1: Channels with overestimated pixels (COP)");
  EXPECT_EQ(table1.methods, (std::vector<std::string>{"grad_cam", "activation_cam"}));
  ASSERT_EQ(table1.columns.size(), 1u);
  EXPECT_EQ(table1.columns[0].heading, "COP ADV");
  const ReportCell& cop = cell_of(table1, "grad_cam", "ADV", "cop");
  EXPECT_DOUBLE_EQ(cop.value.mean, 4.0);  // {3, 5, 4}: the failed attack's 100 is left out
  EXPECT_EQ(cop.value.n, 3u);
  EXPECT_TRUE(cop.best);  // lower is better
  EXPECT_DOUBLE_EQ(cell_of(table1, "activation_cam", "ADV", "cop").value.mean, 20.0);
  EXPECT_FALSE(cell_of(table1, "activation_cam", "ADV", "cop").best);

  const ReportTable& table2 = table_with_title(tables, "Table 2: Dependency on the activation tensor (DOA)");
  // Method order: the DAP1 file's `methods` before the DAP2 file's; no activation_cam.
  EXPECT_EQ(table2.methods, (std::vector<std::string>{"grad_cam", "pixab_cam@d11", "pixab_cam",
                                                      "pixab_cam@p21", "pixab_cam@b12"}));
  const MeanInterval doa = cell_of(table2, "grad_cam", "ADV", "doa").value;
  EXPECT_NEAR(doa.mean, 0.4, 1e-6);
  EXPECT_EQ(doa.n, 3u);
  EXPECT_FALSE(cell_of(table2, "grad_cam", "ADV", "doa").best);  // higher is better: 0.83 beats 0.4
  EXPECT_TRUE(cell_of(table2, "pixab_cam", "ADV", "doa").best);

  const ReportTable& table6 = table_with_title(tables, "Table 6: DAP1 and DAP2");
  std::vector<std::string> headings;
  for (const ReportColumn& column : table6.columns) headings.push_back(column.heading);
  EXPECT_EQ(headings, (std::vector<std::string>{"DAP1 PG (%) ADV", "DAP1 OL (%) ADV", "DAP2 PG (%) ADV",
                                                "DAP2 OL (%) ADV"}));
  EXPECT_EQ(table6.methods, (std::vector<std::string>{"grad_cam", "pixab_cam@d11", "activation_cam",
                                                      "pixab_cam", "pixab_cam@p21", "pixab_cam@b12"}));
  const MeanInterval pg1 = cell_of(table6, "grad_cam", "ADV", "dap1_pointing_game").value;
  EXPECT_DOUBLE_EQ(pg1.mean, 100.0);  // 100 * mean {1, 1}
  EXPECT_EQ(pg1.n, 2u);
  const MeanInterval ol1 = cell_of(table6, "grad_cam", "ADV", "dap1_proportion").value;
  EXPECT_DOUBLE_EQ(ol1.mean, 40.0);  // {30, 50}
  EXPECT_EQ(ol1.n, 2u);
  const MeanInterval pg2 = cell_of(table6, "grad_cam", "ADV", "dap2_pointing_game").value;
  EXPECT_NEAR(pg2.mean, 100.0 / 3, 1e-12);  // 100 * mean {1, 0, 0}
  EXPECT_EQ(pg2.n, 3u);
  const MeanInterval ol2 = cell_of(table6, "grad_cam", "ADV", "dap2_proportion").value;
  EXPECT_DOUBLE_EQ(ol2.mean, 50.0);  // {40, 60, NaN}
  EXPECT_EQ(ol2.n, 2u);
  EXPECT_EQ(cell_of(table6, "activation_cam", "ADV", "dap1_pointing_game").value.n, 0u);  // not in DAP1
  EXPECT_DOUBLE_EQ(cell_of(table6, "activation_cam", "ADV", "dap2_pointing_game").value.mean, 0.0);

  // Tables 7-10: one row each, the variant with that table's boxes and terms.
  const std::vector<std::pair<std::string, std::string>> variant_of{{"Table 7", "pixab_cam@d11"},
                                                                    {"Table 8", "pixab_cam@p21"},
                                                                    {"Table 9", "pixab_cam@b12"},
                                                                    {"Table 10", "pixab_cam"}};
  for (const auto& [title, variant] : variant_of) {
    const ReportTable& table = table_with_title(tables, title + ":");
    EXPECT_EQ(table.methods, std::vector<std::string>{variant}) << title;
    EXPECT_EQ(table.columns.size(), table6.columns.size()) << title;
  }
  const ReportTable& table7 =
      table_with_title(tables, "Table 7: Pixab-CAM, each ablation box alone, deletion term");
  const MeanInterval d_pg1 = cell_of(table7, "pixab_cam@d11", "ADV", "dap1_pointing_game").value;
  EXPECT_DOUBLE_EQ(d_pg1.mean, 50.0);  // 100 * mean {0, 1}
  EXPECT_EQ(d_pg1.n, 2u);
  const MeanInterval d_ol1 = cell_of(table7, "pixab_cam@d11", "ADV", "dap1_proportion").value;
  EXPECT_DOUBLE_EQ(d_ol1.mean, 20.0);  // {20, NaN}
  EXPECT_EQ(d_ol1.n, 1u);
  EXPECT_DOUBLE_EQ(cell_of(table7, "pixab_cam@d11", "ADV", "dap2_pointing_game").value.mean, 100.0);
  const MeanInterval d_ol2 = cell_of(table7, "pixab_cam@d11", "ADV", "dap2_proportion").value;
  EXPECT_DOUBLE_EQ(d_ol2.mean, 30.0);  // {20, 30, 40}
  EXPECT_EQ(d_ol2.n, 3u);
  EXPECT_NE(table7.note.find("pixab_cam@d11 1x1"), std::string::npos) << table7.note;
  EXPECT_NE(table_with_title(tables, "Table 10:").note.find("pixab_cam 1x1,1x2"), std::string::npos);
  // The same cell in Table 6 and Table 7: the keys differ by table, the mean does not.
  EXPECT_DOUBLE_EQ(cell_of(table6, "pixab_cam@d11", "ADV", "dap2_proportion").value.mean, 30.0);

  // The natural tables read the natural file only, though the DAP2 file has an average_drop too.
  for (const ReportColumn& column : table_with_title(tables, "Table 3").columns)
    EXPECT_EQ(column.dataset, "IMGN");
}

TEST_F(ReportTest, NaturalFilesNeverFeedTheAdversarialTables) {
  ResultsData natural = imgn_results();
  natural.text_attributes["pixab_variants"] = kPixabVariants;
  natural.arrays["metrics/grad_cam/cop"] = column_of({1, 2, 3, 4});
  natural.arrays["metrics/grad_cam/doa"] = column_of({1, 2, 3, 4});
  natural.arrays["metrics/pixab_cam@d11/dap1_pointing_game"] = column_of({1, 1, 1, 1});
  natural.arrays["metrics/pixab_cam@d11/dap2_proportion"] = column_of({1, 1, 1, 1});
  const auto tables = build_report_tables(load_report_inputs({write("imgn.h5", natural)}), {});
  EXPECT_EQ(table_ids(tables), (std::vector<std::string>{"table3", "table4"}));
}

TEST_F(ReportTest, AttackSuccessOfAdversarialFilesInMarkdownAndJson) {
  const auto inputs = load_report_inputs(
      {write("imgn.h5", imgn_results()), write("dap1.h5", dap1_results()), write("dap2.h5", dap2_results())});
  const auto tables = build_report_tables(inputs, {});
  std::ostringstream md;
  write_report(inputs, tables, ReportFormat::kMarkdown, {}, md);
  EXPECT_NE(md.str().find("| 2 ok, 1 attack_failed (3 total); attack success: 66.7% (2 of 3) |"),
            std::string::npos)
      << md.str();
  EXPECT_NE(md.str().find("| 3 ok, 1 attack_failed (4 total); attack success: 75.0% (3 of 4) |"),
            std::string::npos);
  EXPECT_NE(md.str().find("| 3 ok, 1 missing (4 total) |"), std::string::npos);  // natural: unchanged
  EXPECT_NE(md.str().find("## Table 6: DAP1 and DAP2"), std::string::npos);
  EXPECT_NE(
      md.str().find("| method | DAP1 PG (%) ADV | DAP1 OL (%) ADV | DAP2 PG (%) ADV | DAP2 OL (%) ADV |"),
      std::string::npos);

  std::ostringstream json_text;
  write_report(inputs, tables, ReportFormat::kJson, {}, json_text);
  const nlohmann::json files = nlohmann::json::parse(json_text.str()).at("files");
  EXPECT_FALSE(files.at(0).contains("attack_success_rate"));
  EXPECT_NEAR(files.at(1).at("attack_success_rate").get<double>(), 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(files.at(2).at("attack_success_rate").get<double>(), 0.75);
}

TEST_F(ReportTest, FilesWithoutTablesStillGetTheirSummary) {
  ResultsData maps_only = results_with_items({ItemStatus::kOk});
  maps_only.arrays["maps/grad_cam"] = {{1, 2, 2}, std::vector<float>(4, 0.5f)};
  const auto inputs = load_report_inputs({write("demo.h5", maps_only)});
  std::ostringstream out;
  write_report(inputs, build_report_tables(inputs, {}), ReportFormat::kMarkdown, {}, out);
  EXPECT_NE(out.str().find("| demo | natural | "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("nothing to tabulate"), std::string::npos);
}

TEST_F(ReportTest, WritesToOutCreatingFolders) {
  ReportOptions options;
  options.files = {write("imgn.h5", imgn_results())};
  options.format = "csv";
  options.out = dir_.file("nested/folder/report.csv");
  std::ostringstream unused;
  run_report(options, unused);
  EXPECT_TRUE(unused.str().empty());
  std::ifstream file(options.out);
  std::string header;
  std::getline(file, header);
  EXPECT_EQ(header, "table,dataset,method,metric,mean,ci_low,ci_high,n,best");

  options.out = dir_.path();  // a folder: cannot be opened as a file
  EXPECT_THROW(run_report(options, unused), IoError);
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
  EXPECT_THROW(parse_report_format("html"), ConfigError);
}

}  // namespace
}  // namespace pixab
