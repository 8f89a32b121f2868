// dataset.sample: a seeded, sorted subset that depends only on (the sorted list, n, seed).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "io/sampling.hpp"

namespace pixab {
namespace {

std::vector<DatasetItem> numbered_items(int count) {
  std::vector<DatasetItem> items;
  for (int i = 0; i < count; ++i) {
    const std::string id = "img_" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    items.push_back({id, "/data/" + id + ".jpg", ""});
  }
  return items;
}

std::vector<std::string> ids(const std::vector<DatasetItem>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.id);
  return out;
}

TEST(Sampling, SortedSubsetOfTheRequestedSize) {
  const auto all = numbered_items(50);
  const auto sample = sample_items(all, 10, 3);
  ASSERT_EQ(sample.size(), 10u);
  EXPECT_TRUE(std::is_sorted(sample.begin(), sample.end(), [](auto& a, auto& b) { return a.id < b.id; }));
  const auto sampled = ids(sample);
  EXPECT_EQ(std::set<std::string>(sampled.begin(), sampled.end()).size(), 10u);             // no repeats
  for (const auto& item : sample) EXPECT_EQ(item.image_path, "/data/" + item.id + ".jpg");  // whole items
}

TEST(Sampling, ReproducibleAndSeedDependent) {
  const auto all = numbered_items(50);
  EXPECT_EQ(ids(sample_items(all, 10, 7)), ids(sample_items(all, 10, 7)));
  EXPECT_NE(ids(sample_items(all, 10, 7)), ids(sample_items(all, 10, 8)));
}

// Pinned: PortableRng (mt19937_64, whose sequence the C++ standard fixes) gives these on every platform. A
// change here changes every manifest, and with it every resume.
TEST(Sampling, PinnedDraw) {
  EXPECT_EQ(ids(sample_items(numbered_items(10), 3, 0)),
            (std::vector<std::string>{"img_03", "img_04", "img_06"}));
}

TEST(Sampling, ZeroOrAtLeastTheSizeMeansEveryItem) {
  const auto all = numbered_items(5);
  EXPECT_EQ(ids(sample_items(all, 0, 1)), ids(all));
  EXPECT_EQ(ids(sample_items(all, 5, 1)), ids(all));
  EXPECT_EQ(ids(sample_items(all, 99, 1)), ids(all));
  EXPECT_TRUE(sample_items({}, 3, 1).empty());
}

// Every item equally likely: over 3,000 seeds, 3 of 10 items, each item is drawn 900 times on average
// (binomial standard deviation 25; the bounds are 4 of them).
TEST(Sampling, EveryItemEquallyLikely) {
  const auto all = numbered_items(10);
  std::vector<int> drawn(10, 0);
  for (std::uint64_t seed = 0; seed < 3000; ++seed) {
    for (const auto& item : sample_items(all, 3, seed)) ++drawn[std::stoi(item.id.substr(4))];
  }
  for (int count : drawn) {
    EXPECT_GT(count, 800);
    EXPECT_LT(count, 1000);
  }
}

}  // namespace
}  // namespace pixab
