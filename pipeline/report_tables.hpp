// The report's table model: the paper's tables computed from results files, rendered by every output format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/results_view.hpp"
#include "pipeline/statistics.hpp"

namespace pixab {

struct BootstrapSettings {
  std::size_t samples = 1000;  // resamples per cell
  std::uint64_t seed = 0;      // mixed with each cell's key (cell_seed)
};

struct ReportCell {
  MeanInterval value;
  bool best = false;  // among the best means of its column (metrics with a better direction only)
};

// One column of figures: a metric on one file (in the sanity tables, one randomisation stage).
struct ReportColumn {
  std::string dataset;            // the file's label
  std::string metric;             // metric id; "spearman/<stage>" or "ssim/<stage>" in the sanity tables
  std::string heading;            // e.g. "AD (%) IMGN"
  int decimals = 2;               // for Markdown
  std::vector<ReportCell> cells;  // one per row
};

struct ReportTable {
  std::string id;                    // "table1".."table10", "localisation" or "sanity"
  std::string title;                 // names the paper's table
  std::string note;                  // which cells are marked best, and why not where they are not
  std::vector<std::string> methods;  // rows
  std::vector<ReportColumn> columns;
};

// In paper order: Table 1 (COP) and Table 2 (DOA) over the adversarial-task files (dap2); Table 3 (AD, IIC,
// Compactness), Table 4 (Deletion, Insertion AUC), Table 5 (OL) and localisation over the natural-task files;
// Table 6 (DAP1, DAP2) and Tables 7-10 (the Pixab-CAM variants of the files' `pixab_variants`: one box with
// the deletion, preservation or both terms; several boxes with both) over the adversarial-task files; then
// two sanity tables (Spearman, SSIM) per sanity-task file. Rows follow the files' `methods` attributes (first
// file first), then methods found only in arrays, alphabetically; a method appears in a table where it has at
// least one array. A (metric, file) column appears where the file has that metric for some method; a table
// without rows or columns is left out. Cells use ok items only; each cell's bootstrap is seeded by
// cell_seed(bootstrap.seed, "<table>/<dataset>/<method>/<metric>").
std::vector<ReportTable> build_report_tables(const std::vector<ReportInput>& inputs,
                                             const BootstrapSettings& bootstrap);

}  // namespace pixab
