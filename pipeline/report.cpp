// Renders the report's table model as Markdown, CSV or JSON, and runs `pixab report`.
#include "pipeline/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "io/error.hpp"

namespace pixab {

namespace {

constexpr const char* kNoValue = "–";

// Visits every cell in table, row, column order: the one order of the CSV rows and the JSON cells.
void for_each_cell(const std::vector<ReportTable>& tables,
                   const std::function<void(const ReportTable&, const std::string& method,
                                            const ReportColumn&, const ReportCell&)>& visit) {
  for (const ReportTable& table : tables) {
    for (std::size_t row = 0; row < table.methods.size(); ++row) {
      for (const ReportColumn& column : table.columns)
        visit(table, table.methods[row], column, column.cells[row]);
    }
  }
}

// An adversarial file's attack success rate, as a fraction; NaN when no row was attacked to the end.
double success_rate(const AttackSuccess& success) {
  return success.attempted == 0
             ? std::nan("")
             : static_cast<double>(success.succeeded) / static_cast<double>(success.attempted);
}

// The item counts by status, then an adversarial file's attack success.
std::string item_summary(const ReportInput& input) {
  std::string summary;
  for (const auto& [status, count] : items_by_status(input.data))
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", count, status);
  summary = fmt::format("{} ({} total)", summary.empty() ? "none" : summary, input.data.items.size());
  if (const auto success = attack_success(input)) {
    const double rate = success_rate(*success);
    summary += fmt::format("; attack success: {} ({} of {})",
                           std::isnan(rate) ? std::string(kNoValue) : fmt::format("{:.1f}%", 100 * rate),
                           success->succeeded, success->attempted);
  }
  return summary;
}

// Text inside a Markdown table cell: a '|' would end the cell.
std::string md_text(const std::string& text) {
  std::string escaped;
  for (const char c : text) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
  return escaped.empty() ? kNoValue : escaped;
}

std::string md_cell(const ReportColumn& column, const ReportCell& cell) {
  const MeanInterval& v = cell.value;
  if (v.n == 0) return kNoValue;
  const std::string mean = fmt::format("{:.{}f}", v.mean, column.decimals);
  return fmt::format("{} [{:.{}f}, {:.{}f}] n={}", cell.best ? "**" + mean + "**" : mean, v.low,
                     column.decimals, v.high, column.decimals, v.n);
}

void write_markdown(const std::vector<ReportInput>& inputs, const std::vector<ReportTable>& tables,
                    const BootstrapSettings& bootstrap, std::ostream& out) {
  out << "# pixab report\n\n## Files\n\n"
      << "| label | task | file | model | sha256 | dataset | created | pixab | items |\n"
      << "|---|---|---|---|---|---|---|---|---|\n";
  for (const ReportInput& input : inputs) {
    const auto attribute = [&](const char* key) { return md_text(text_attribute(input.data, key)); };
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", md_text(input.label),
                       md_text(input.task), md_text(input.path), attribute("model_path"),
                       md_text(text_attribute(input.data, "model_sha256").substr(0, 12)),
                       attribute("dataset"), attribute("created"), attribute("software_version"),
                       item_summary(input));
  }
  if (tables.empty()) {
    out << "\nNo metric or sanity arrays in these files: nothing to tabulate.\n";
    return;
  }
  out << fmt::format(
      "\nCells: mean [95% percentile bootstrap interval] n = ok items where the figure is defined; {} where "
      "there are none. {} resamples per cell, seed {} (docs/report.md).\n",
      kNoValue, bootstrap.samples, bootstrap.seed);

  for (const ReportTable& table : tables) {
    out << "\n## " << table.title << "\n\n| method |";
    for (const ReportColumn& column : table.columns) out << ' ' << md_text(column.heading) << " |";
    out << "\n|---|";
    for (std::size_t c = 0; c < table.columns.size(); ++c) out << "---:|";
    for (std::size_t row = 0; row < table.methods.size(); ++row) {
      out << "\n| " << md_text(table.methods[row]) << " |";
      for (const ReportColumn& column : table.columns)
        out << ' ' << md_cell(column, column.cells[row]) << " |";
    }
    out << "\n\n" << table.note << "\n";
  }
}

// Full precision, empty for NaN (read as missing by pandas, R and spreadsheets).
std::string csv_number(double value) { return std::isnan(value) ? "" : fmt::format("{:.9g}", value); }

std::string csv_text(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_csv(const std::vector<ReportTable>& tables, std::ostream& out) {
  out << "table,dataset,method,metric,mean,ci_low,ci_high,n,best\n";
  for_each_cell(tables, [&out](const ReportTable& table, const std::string& method,
                               const ReportColumn& column, const ReportCell& cell) {
    out << fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_text(table.id), csv_text(column.dataset),
                       csv_text(method), csv_text(column.metric), csv_number(cell.value.mean),
                       csv_number(cell.value.low), csv_number(cell.value.high), cell.value.n,
                       cell.best ? 1 : 0);
  });
}

nlohmann::ordered_json json_number(double value) {
  return std::isnan(value) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}

void write_json(const std::vector<ReportInput>& inputs, const std::vector<ReportTable>& tables,
                const BootstrapSettings& bootstrap, std::ostream& out) {
  nlohmann::ordered_json report;
  report["files"] = nlohmann::ordered_json::array();
  for (const ReportInput& input : inputs) {
    nlohmann::ordered_json file{{"path", input.path}, {"label", input.label}, {"task", input.task}};
    file["items"] = nlohmann::ordered_json::object();
    for (const auto& [status, count] : items_by_status(input.data)) file["items"][status] = count;
    if (const auto success = attack_success(input))
      file["attack_success_rate"] = json_number(success_rate(*success));
    for (const char* key : {"model_path", "model_sha256", "dataset", "created", "software_version"})
      file[key] = text_attribute(input.data, key);
    report["files"].push_back(std::move(file));
  }
  report["bootstrap"] = {{"samples", bootstrap.samples},
                         {"seed", bootstrap.seed},
                         {"quantiles", {kBootstrapLowQuantile, kBootstrapHighQuantile}}};
  report["cells"] = nlohmann::ordered_json::array();
  for_each_cell(tables, [&report](const ReportTable& table, const std::string& method,
                                  const ReportColumn& column, const ReportCell& cell) {
    report["cells"].push_back({{"table", table.id},
                               {"dataset", column.dataset},
                               {"method", method},
                               {"metric", column.metric},
                               {"mean", json_number(cell.value.mean)},
                               {"ci_low", json_number(cell.value.low)},
                               {"ci_high", json_number(cell.value.high)},
                               {"n", cell.value.n},
                               {"best", cell.best ? 1 : 0}});
  });
  out << report.dump(2) << "\n";
}

}  // namespace

ReportFormat parse_report_format(const std::string& name) {
  if (name == "md") return ReportFormat::kMarkdown;
  if (name == "csv") return ReportFormat::kCsv;
  if (name == "json") return ReportFormat::kJson;
  throw ConfigError(fmt::format("unknown report format '{}' (md, csv or json)", name));
}

void write_report(const std::vector<ReportInput>& inputs, const std::vector<ReportTable>& tables,
                  ReportFormat format, const BootstrapSettings& bootstrap, std::ostream& out) {
  switch (format) {
    case ReportFormat::kMarkdown:
      return write_markdown(inputs, tables, bootstrap, out);
    case ReportFormat::kCsv:
      return write_csv(tables, out);
    case ReportFormat::kJson:
      return write_json(inputs, tables, bootstrap, out);
  }
}

void run_report(const ReportOptions& options, std::ostream& out) {
  const ReportFormat format = parse_report_format(options.format);
  const std::vector<ReportInput> inputs = load_report_inputs(options.files);
  const std::vector<ReportTable> tables = build_report_tables(inputs, options.bootstrap);
  if (options.out.empty()) return write_report(inputs, tables, format, options.bootstrap, out);

  const std::filesystem::path path(options.out);
  std::error_code error;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), error);
  if (error)
    throw IoError(fmt::format("cannot create the folder of report '{}': {}", options.out, error.message()));
  std::ofstream file(path);
  if (file) write_report(inputs, tables, format, options.bootstrap, file);
  file.close();
  if (!file) throw IoError(fmt::format("cannot write report '{}': {}", options.out, std::strerror(errno)));
}

}  // namespace pixab
