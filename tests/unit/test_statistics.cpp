// The report's statistics: numpy's linear quantile, FNV-1a cell seeds and the seeded percentile bootstrap.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pipeline/statistics.hpp"

namespace pixab {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(ReportStatistics, LinearQuantileInterpolatesBetweenOrderStatistics) {
  // numpy.quantile([1, 2, 3, 4], q): h = 3q.
  const std::vector<double> sorted{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(linear_quantile(sorted, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(linear_quantile(sorted, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(linear_quantile(sorted, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(linear_quantile(sorted, 1.0), 4.0);
  // numpy.quantile([0, 10], [0.025, 0.975]) = [0.25, 9.75].
  EXPECT_DOUBLE_EQ(linear_quantile({0, 10}, kBootstrapLowQuantile), 0.25);
  EXPECT_DOUBLE_EQ(linear_quantile({0, 10}, kBootstrapHighQuantile), 9.75);
  EXPECT_DOUBLE_EQ(linear_quantile({7}, 0.975), 7.0);
  EXPECT_TRUE(std::isnan(linear_quantile({}, 0.5)));
}

TEST(ReportStatistics, Fnv1aMatchesPublishedValues) {
  // Test vectors of the FNV reference (isthe.com/chongo/tech/comp/fnv).
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ULL);
}

TEST(ReportStatistics, CellSeedDependsOnSeedAndKey) {
  const char* key = "table3/IMGN/grad_cam/average_drop";
  EXPECT_EQ(cell_seed(0, key), cell_seed(0, key));
  EXPECT_NE(cell_seed(0, key), cell_seed(1, key));
  EXPECT_NE(cell_seed(0, key), cell_seed(0, "table3/IMGN/score_cam/average_drop"));
  // The key's bytes, then the seed's 8 little-endian bytes.
  EXPECT_EQ(cell_seed(0x0102030405060708ULL, "k"),
            fnv1a_64(std::string_view("\x08\x07\x06\x05\x04\x03\x02\x01", 8), fnv1a_64("k")));
}

// Golden values, so that any change in how the bootstrap uses its generator (draw order, rejection, seeding,
// the quantile) shows. Cross-checked in Python with std::mt19937_64 written out from the C++ standard's
// parameters (checked against the standard's 10000th draw of seed 5489, 9981545732273789042):
//   below(n): r = draws until r < 2^64 - 1 - (2^64 - 1) % n, then r % n
//   cell_seed: FNV-1a 64 over the key's bytes, continued over seed.to_bytes(8, "little")
//   each resample: s = 0.0; s += values[below(n)] n times; s / n; sort; x[k] + (h - k) * (x[k+1] - x[k])
TEST(ReportStatistics, GoldenCellSeedAndInterval) {
  EXPECT_EQ(cell_seed(0, "table3/DEMO/grad_cam/average_drop"), 0xbcc41936e9529271ULL);
  const MeanInterval r = bootstrap_mean({3.5, 1.25, 7, 2, 9.5, 4, 0.75}, 50, 42);
  EXPECT_EQ(r.n, 7u);
  EXPECT_EQ(r.mean, 4.0);
  EXPECT_EQ(r.low, 3.0160714285714287);
  EXPECT_EQ(r.high, 6.0374999999999988);
}

TEST(ReportStatistics, MeanAndCountSkipNaN) {
  const MeanInterval r = bootstrap_mean({10, kNaN, 20, kNaN}, 200, 1);
  EXPECT_EQ(r.n, 2u);
  EXPECT_DOUBLE_EQ(r.mean, 15.0);
  EXPECT_GE(r.low, 10.0);
  EXPECT_LE(r.high, 20.0);
}

TEST(ReportStatistics, NoValuesGiveNaN) {
  const MeanInterval r = bootstrap_mean({kNaN, kNaN}, 100, 0);
  EXPECT_EQ(r.n, 0u);
  EXPECT_TRUE(std::isnan(r.mean));
  EXPECT_TRUE(std::isnan(r.low));
  EXPECT_TRUE(std::isnan(r.high));
}

TEST(ReportStatistics, OneValueIsItsOwnInterval) {
  const MeanInterval r = bootstrap_mean({kNaN, 0.3}, 1000, 5);
  EXPECT_EQ(r.n, 1u);
  EXPECT_EQ(r.mean, 0.3);
  EXPECT_EQ(r.low, 0.3);
  EXPECT_EQ(r.high, 0.3);
}

TEST(ReportStatistics, ConstantValuesGiveAZeroWidthInterval) {
  const MeanInterval r = bootstrap_mean(std::vector<double>(50, 0.1), 300, 9);
  EXPECT_EQ(r.low, r.high);  // every resample adds the same numbers in the same order
  EXPECT_NEAR(r.low, 0.1, 1e-12);
  EXPECT_NEAR(r.mean, 0.1, 1e-12);
}

TEST(ReportStatistics, BootstrapIsReproducibleForASeedAndChangesWithIt) {
  std::vector<double> values;
  for (int i = 0; i < 40; ++i) values.push_back((i * 37) % 11);
  const MeanInterval a = bootstrap_mean(values, 1000, 42);
  const MeanInterval b = bootstrap_mean(values, 1000, 42);
  const MeanInterval c = bootstrap_mean(values, 1000, 43);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_EQ(a.mean, c.mean);  // the mean does not depend on the draws
  EXPECT_TRUE(a.low != c.low || a.high != c.high);
}

TEST(ReportStatistics, IntervalOfZerosAndOnesContainsTheMeanWithTheExpectedWidth) {
  std::vector<double> values(1000, 0.0);
  for (std::size_t i = 0; i < 300; ++i) values[3 * i] = 1.0;  // 300 ones
  const MeanInterval r = bootstrap_mean(values, 2000, 7);
  EXPECT_DOUBLE_EQ(r.mean, 0.3);
  EXPECT_LT(r.low, r.mean);
  EXPECT_GT(r.high, r.mean);
  // Normal approximation: half-width 1.96 sqrt(0.3 * 0.7 / 1000) = 0.0284.
  EXPECT_NEAR(r.mean - r.low, 0.0284, 0.005);
  EXPECT_NEAR(r.high - r.mean, 0.0284, 0.005);
}

}  // namespace
}  // namespace pixab
