// Per-row array declarations and the checked copy of rows into them: the layout and the rows come from one
// declaration, and a producer that disagrees with it is a bug, caught at the write.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "workers/tasks/row_arrays.hpp"

namespace pixab {
namespace {

ArraySpecs two_specs() {
  ArraySpecs specs;
  specs.add({"maps/m", DType::kFloat32, {2, 2}});
  specs.add({"patch/box", DType::kInt32, {4}, -1});
  return specs;
}

TEST(RowArrays, RowsStartAtTheirFillAndTakeWhatIsWrittenConvertedToTheDeclaredType) {
  const ArraySpecs specs = two_specs();
  RowArrays arrays(specs, 3);
  arrays.write("maps/m", {2, 0}, torch::arange(8, torch::kDouble).view({2, 2, 2}));
  arrays.write("patch/box", {1}, torch::tensor({{3.9, 4.0, 5.0, 6.0}}));
  const auto out = arrays.release();

  const auto& maps = out.at("maps/m");
  EXPECT_EQ(maps.dtype(), DType::kFloat32);
  EXPECT_EQ(maps.shape, (std::vector<std::uint64_t>{3, 2, 2}));
  const std::vector<float> expected_maps{4, 5, 6, 7, NAN, NAN, NAN, NAN, 0, 1, 2, 3};
  for (std::size_t i = 0; i < expected_maps.size(); ++i) {
    if (std::isnan(expected_maps[i])) {
      EXPECT_TRUE(std::isnan(maps.floats()[i])) << i;
    } else {
      EXPECT_EQ(maps.floats()[i], expected_maps[i]) << i;
    }
  }
  const auto& boxes = out.at("patch/box");
  EXPECT_EQ(boxes.dtype(), DType::kInt32);
  // 3.9 truncates to 3, as a tensor conversion to int32 does; rows 0 and 2 keep the fill -1.
  EXPECT_EQ(boxes.as<std::int32_t>(), (std::vector<std::int32_t>{-1, -1, -1, -1, 3, 4, 5, 6, -1, -1, -1, -1}));
}

TEST(RowArrays, AWriteThatDisagreesWithTheDeclarationIsABug) {
  const ArraySpecs specs = two_specs();
  RowArrays arrays(specs, 2);
  EXPECT_THROW(arrays.write("maps/other", {0}, torch::zeros({1, 2, 2})), std::logic_error);  // undeclared
  EXPECT_THROW(arrays.write("maps/m", {0}, torch::zeros({1, 3, 2})), std::logic_error);      // row shape
  EXPECT_THROW(arrays.write("maps/m", {0, 1}, torch::zeros({1, 2, 2})), std::logic_error);   // row count
  EXPECT_THROW(arrays.write("maps/m", {2}, torch::zeros({1, 2, 2})), std::logic_error);      // past the end
  try {
    arrays.write("maps/m", {0}, torch::zeros({1, 4}));
    FAIL() << "expected a std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "array 'maps/m': 1 rows of [2, 2] declared, a tensor of [1, 4] given");
  }
}

TEST(ArraySpecs, APathIsDeclaredOnceAndIntegersNeedAFill) {
  ArraySpecs specs = two_specs();
  EXPECT_THROW(specs.add({"maps/m", DType::kFloat32, {2, 2}}), std::logic_error);
  EXPECT_THROW(specs.add({"patch/count", DType::kUInt8, {}}), std::logic_error);  // NaN fill for uint8
  EXPECT_THROW(specs.at("nothing"), std::logic_error);
  EXPECT_EQ(specs.at("patch/box").row_shape, (std::vector<std::uint64_t>{4}));
  ASSERT_EQ(specs.all().size(), 2u);
  EXPECT_EQ(specs.all()[0].path, "maps/m");  // declaration order
}

}  // namespace
}  // namespace pixab
