// `pixab report`: the paper's tables from results files as Markdown, CSV or JSON (docs/report.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "pipeline/report_tables.hpp"

namespace pixab {

enum class ReportFormat { kMarkdown, kCsv, kJson };

// "md", "csv" or "json"; ConfigError otherwise.
ReportFormat parse_report_format(const std::string& name);

struct ReportOptions {
  std::vector<std::string> files;  // typically one per dataset
  std::string format = "md";
  std::string out;  // empty: the report goes to the given stream
  BootstrapSettings bootstrap;
};

// Renders the table model. Markdown and JSON start with each file's provenance and item counts; CSV is one
// row per cell (table,dataset,method,metric,mean,ci_low,ci_high,n,best).
void write_report(const std::vector<ReportInput>& inputs, const std::vector<ReportTable>& tables,
                  ReportFormat format, const BootstrapSettings& bootstrap, std::ostream& out);

// Reads the files, builds the tables and writes them to options.out (parent folders created; IoError when it
// cannot be written) or else to `out`.
void run_report(const ReportOptions& options, std::ostream& out);

}  // namespace pixab
