// Means with seeded percentile-bootstrap confidence intervals, for the report's table cells.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace pixab {

// The 95% interval is [the kBootstrapLowQuantile, the kBootstrapHighQuantile] quantiles of the resample
// means.
inline constexpr double kBootstrapLowQuantile = 0.025;
inline constexpr double kBootstrapHighQuantile = 0.975;

struct MeanInterval {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();  // NaN (like the mean) when n = 0
  double high = std::numeric_limits<double>::quiet_NaN();
  std::size_t n = 0;  // values that were not NaN
};

// The q-quantile (0 <= q <= 1) of ascending `sorted` values by linear interpolation between order statistics,
// numpy's default rule: h = (size - 1) q, k = floor(h), x[k] + (h - k) (x[k+1] - x[k]). NaN when empty.
double linear_quantile(const std::vector<double>& sorted, double q);

// 64-bit FNV-1a of the bytes of `text`, continuing from `hash` (the FNV offset basis by default).
std::uint64_t fnv1a_64(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL);

// The seed of one table cell's generator: FNV-1a 64 of the UTF-8 bytes of `cell_key` followed by the 8 bytes
// of `seed`, little-endian. Each cell has its own stream, so adding a method or a file leaves the other cells
// alone.
std::uint64_t cell_seed(std::uint64_t seed, std::string_view cell_key);

// Mean of the values that are not NaN, their count, and the 95% percentile bootstrap interval of the mean:
// `samples` resamples of n values drawn with replacement (PortableRng(seed).below(n) per draw), the
// interval's ends being linear_quantile of the sorted resample means at kBootstrapLowQuantile and
// kBootstrapHighQuantile. n = 1 gives the value itself as both ends. samples >= 1.
MeanInterval bootstrap_mean(const std::vector<double>& values, std::size_t samples, std::uint64_t seed);

}  // namespace pixab
