// The seeded sample of a dataset's items (dataset.sample, dataset.seed) that the manifest is built from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/dataset.hpp"

namespace pixab {

// n items drawn uniformly without replacement, returned in their input order: from a list sorted by id, a
// sorted subset. The result depends only on (the list, n, seed): not on the platform, the standard library,
// the rank or the time. n = 0 or n >= the list's size returns the whole list.
std::vector<DatasetItem> sample_items(std::vector<DatasetItem> sorted, std::size_t n, std::uint64_t seed);

}  // namespace pixab
