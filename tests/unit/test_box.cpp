// Box conventions: VOC's 1-based inclusive boxes and the pixel-centre rule of metrics.md.
#include <gtest/gtest.h>

#include <limits>

#include "io/box.hpp"

namespace pixab {
namespace {

TEST(Box, VocInclusiveBecomesPixelEdges) {
  // VOC xmin=1..xmax=3 covers pixels 0, 1, 2: edges [0, 3].
  const Box b = box_from_voc(1, 5, 3, 7).value();
  EXPECT_FLOAT_EQ(b.x1, 0.0f);
  EXPECT_FLOAT_EQ(b.x2, 3.0f);
  EXPECT_FLOAT_EQ(b.y1, 4.0f);
  EXPECT_FLOAT_EQ(b.y2, 7.0f);
}

// Found by fuzzing (tests/fuzz): "1e39" is a finite double, but a float edge would be infinite.
TEST(Box, EdgesBeyondAFloatsRangeAreRefused) {
  EXPECT_FALSE(box_from_edges(0, 0, 1e39, 1));
  EXPECT_FALSE(box_from_edges(-1e39, 0, 1, 1));
  EXPECT_FALSE(box_from_coco(3e38, 0, 3e38, 1));  // x + w overflows, not x or w
  EXPECT_FALSE(box_from_voc(1, 1, 2, std::numeric_limits<double>::infinity()));
  const auto largest = box_from_edges(0, 0, std::numeric_limits<float>::max(), 1);
  ASSERT_TRUE(largest);
  EXPECT_EQ(largest->x2, std::numeric_limits<float>::max());
}

TEST(Box, PixelCentreRule) {
  EXPECT_TRUE(box_contains_pixel_centre(Box{0.5f, 0.5f, 0.5f, 0.5f}, 4, 4));   // touches centre (0,0)
  EXPECT_FALSE(box_contains_pixel_centre(Box{0.6f, 0.0f, 1.4f, 4.0f}, 4, 4));  // between centres 0.5 and 1.5
  EXPECT_FALSE(box_contains_pixel_centre(Box{4.0f, 0.0f, 9.0f, 4.0f}, 4, 4));  // right of the image
}

TEST(Box, ClipsToImage) {
  const Box b = clip_box(Box{-3, -1, 10, 2}, 8, 6);
  EXPECT_FLOAT_EQ(b.x1, 0);
  EXPECT_FLOAT_EQ(b.y1, 0);
  EXPECT_FLOAT_EQ(b.x2, 8);
  EXPECT_FLOAT_EQ(b.y2, 2);
}

}  // namespace
}  // namespace pixab
