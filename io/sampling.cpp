// Sampling by a partial Fisher-Yates shuffle of indices with PortableRng, whose draws are fixed on every
// platform, so that every rank and every later resume builds the same manifest.
#include "io/sampling.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "io/rng.hpp"

namespace pixab {

std::vector<DatasetItem> sample_items(std::vector<DatasetItem> sorted, std::size_t n, std::uint64_t seed) {
  if (n == 0 || n >= sorted.size()) return sorted;
  std::vector<std::size_t> order(sorted.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  PortableRng rng(seed);
  for (std::size_t i = 0; i < n; ++i) std::swap(order[i], order[i + rng.below(order.size() - i)]);
  order.resize(n);
  std::sort(order.begin(), order.end());  // back to the input order

  std::vector<DatasetItem> sample;
  sample.reserve(n);
  for (const std::size_t index : order) sample.push_back(std::move(sorted[index]));
  return sample;
}

}  // namespace pixab
