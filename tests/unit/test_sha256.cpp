// SHA-256 against the FIPS 180-2 test vector.
#include <gtest/gtest.h>

#include <fstream>

#include "io/error.hpp"
#include "io/sha256.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileEqualsContent) {
  const std::string path = test::fresh_temp_dir("sha") + "/f.txt";
  std::ofstream(path) << "abc";
  EXPECT_EQ(sha256_file(path), sha256_hex("abc"));
  EXPECT_THROW(sha256_file(path + ".missing"), IoError);
}

}  // namespace
}  // namespace pixab
