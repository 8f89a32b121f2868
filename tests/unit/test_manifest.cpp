// The manifest's cut into chunks: fixed, consecutive, independent of the rank count, the last one shorter.
#include <gtest/gtest.h>

#include "pipeline/manifest.hpp"

namespace pixab {
namespace {

Manifest manifest_of(std::size_t items, std::size_t chunk_size) {
  Manifest manifest;
  manifest.items.resize(items);
  manifest.rows.resize(items);
  manifest.chunk_size = chunk_size;
  return manifest;
}

TEST(Manifest, ChunksCoverEveryRowOnceWithAShorterLastChunk) {
  const Manifest m = manifest_of(37, 5);
  ASSERT_EQ(m.chunk_count(), 8u);
  std::size_t next = 0;
  for (std::size_t c = 0; c < m.chunk_count(); ++c) {
    const auto [first, count] = m.chunk_rows(c);
    EXPECT_EQ(first, next);
    EXPECT_EQ(count, c + 1 < m.chunk_count() ? 5u : 2u);
    next = first + count;
  }
  EXPECT_EQ(next, 37u);
}

TEST(Manifest, FewerItemsThanAChunkIsOneChunk) {
  const Manifest m = manifest_of(3, 16);
  EXPECT_EQ(m.chunk_count(), 1u);
  EXPECT_EQ(m.chunk_rows(0), (std::pair<std::size_t, std::size_t>{0, 3}));
}

}  // namespace
}  // namespace pixab
