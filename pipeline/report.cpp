// The summary report: reads a results file back and prints what a user checks first.
#include "pipeline/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "io/results_file.hpp"

namespace pixab {

namespace {

struct MapStatistics {
  std::size_t maps = 0, all_zero = 0;
  double value_sum = 0, area_above_half = 0;
  std::size_t values = 0;
};

// Statistics over the rows of ok items; each row is one h*w map in [0,1].
MapStatistics map_statistics(const FloatArray& array, const std::vector<ItemRecord>& items) {
  MapStatistics stats;
  if (array.shape.size() != 3) return stats;
  const std::size_t cells = array.shape[1] * array.shape[2];
  for (std::size_t row = 0; row < items.size(); ++row) {
    if (items[row].status != ItemStatus::kOk) continue;
    const float* map = array.values.data() + row * cells;
    std::size_t above = 0;
    bool zero = true;
    for (std::size_t i = 0; i < cells; ++i) {
      stats.value_sum += map[i];
      above += map[i] > 0.5f;
      zero = zero && map[i] == 0.0f;
    }
    stats.values += cells;
    stats.area_above_half += static_cast<double>(above) / cells;
    stats.all_zero += zero;
    ++stats.maps;
  }
  return stats;
}

}  // namespace

void print_report(const std::string& results_path, std::ostream& out) {
  const ResultsData data = read_results_file(results_path);
  std::map<std::string, std::size_t> by_status;
  for (const auto& item : data.items) ++by_status[item_status_name(item.status)];

  out << "# pixab report: " << results_path << "\n\n";
  const auto attribute = [&](const char* key) {
    const auto it = data.text_attributes.find(key);
    return it == data.text_attributes.end() ? std::string("-") : it->second;
  };
  out << fmt::format("model: `{}` (sha256 {}), dataset: `{}`, created {}, pixab {}\n\n",
                     attribute("model_path"), attribute("model_sha256").substr(0, 12), attribute("dataset"),
                     attribute("created"), attribute("software_version"));

  out << "## Items\n\n| status | items |\n|---|---:|\n";
  for (const auto& [status, count] : by_status) out << fmt::format("| {} | {} |\n", status, count);
  out << fmt::format("| **total** | **{}** |\n\n", data.items.size());

  out << "## Maps (ok items)\n\n"
      << "| method | maps | mean value | mean area > 0.5 (%) | all-zero maps |\n|---|---:|---:|---:|---:|\n";
  for (const auto& [path, array] : data.arrays) {
    if (path.rfind("maps/", 0) != 0) continue;
    const MapStatistics s = map_statistics(array, data.items);
    const double mean = s.values ? s.value_sum / s.values : std::nan("");
    const double area = s.maps ? 100.0 * s.area_above_half / s.maps : std::nan("");
    out << fmt::format("| {} | {} | {:.4f} | {:.2f} | {} |\n", path.substr(5), s.maps, mean, area,
                       s.all_zero);
  }
}

}  // namespace pixab
