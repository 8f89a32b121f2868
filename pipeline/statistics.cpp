// Percentile bootstrap of the mean (pipeline/statistics.hpp): what the report's intervals are made of.
#include "pipeline/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "io/rng.hpp"

namespace pixab {

double linear_quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto k = static_cast<std::size_t>(std::floor(h));
  if (k + 1 >= sorted.size()) return sorted.back();
  return sorted[k] + (h - static_cast<double>(k)) * (sorted[k + 1] - sorted[k]);
}

std::uint64_t fnv1a_64(std::string_view text, std::uint64_t hash) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;  // the 64-bit FNV prime
  }
  return hash;
}

std::uint64_t cell_seed(std::uint64_t seed, std::string_view cell_key) {
  char seed_bytes[8];
  for (int i = 0; i < 8; ++i) seed_bytes[i] = static_cast<char>((seed >> (8 * i)) & 0xff);
  return fnv1a_64(std::string_view(seed_bytes, 8), fnv1a_64(cell_key));
}

MeanInterval bootstrap_mean(const std::vector<double>& values, std::size_t samples, std::uint64_t seed) {
  std::vector<double> defined;
  std::copy_if(values.begin(), values.end(), std::back_inserter(defined),
               [](double v) { return !std::isnan(v); });
  MeanInterval result;
  result.n = defined.size();
  if (defined.empty()) return result;
  double sum = 0;
  for (const double v : defined) sum += v;
  result.mean = sum / static_cast<double>(result.n);
  if (result.n == 1) {  // every resample is the one value; skip the draws
    result.low = result.high = defined.front();
    return result;
  }

  PortableRng rng(seed);
  std::vector<double> resample_means(samples);
  for (double& resample_mean : resample_means) {
    double resample_sum = 0;
    for (std::size_t draw = 0; draw < result.n; ++draw) resample_sum += defined[rng.below(result.n)];
    resample_mean = resample_sum / static_cast<double>(result.n);
  }
  std::sort(resample_means.begin(), resample_means.end());
  result.low = linear_quantile(resample_means, kBootstrapLowQuantile);
  result.high = linear_quantile(resample_means, kBootstrapHighQuantile);
  return result;
}

}  // namespace pixab
