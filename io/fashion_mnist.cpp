// Reader for Fashion-MNIST's gzipped IDX files (big-endian header, then raw bytes), read through zlib.
#include "io/fashion_mnist.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

#include "io/error.hpp"

namespace pixab {
namespace {

constexpr std::uint32_t kImagesMagic = 2051;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 2049;  // unsigned bytes, 1 dimension
constexpr int kNumClasses = 10;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// One open IDX file; every failure names the file, since a user sees only the message.
class IdxReader {
 public:
  explicit IdxReader(std::string path) : path_(std::move(path)), file_(gzopen(path_.c_str(), "rb")) {
    if (!file_) throw IoError("cannot open Fashion-MNIST file " + path_);
  }

  // Reads exactly size bytes; a short read means a truncated or corrupt file.
  void read_exactly(void* data, std::size_t size, const char* what) {
    std::size_t done = 0;
    auto* bytes = static_cast<unsigned char*>(data);
    while (done < size) {
      // gzread takes an unsigned count; a split set is ~47 MB, but stay well inside its range regardless.
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
      const int got = gzread(file_.get(), bytes + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file_.get(), &code);
        fail(std::string("cannot read ") + what + ": " + (message ? message : "zlib error"));
      }
      if (got == 0) fail(std::string("file is truncated while reading ") + what);
      done += static_cast<std::size_t>(got);
    }
  }

  std::uint32_t read_big_endian_u32(const char* what) {
    std::array<unsigned char, 4> b{};
    read_exactly(b.data(), b.size(), what);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  }

  void expect_end() {
    unsigned char extra = 0;
    if (gzread(file_.get(), &extra, 1) != 0) fail("file has data after the last item");
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw IoError("malformed Fashion-MNIST file " + path_ + ": " + why);
  }

 private:
  std::string path_;
  GzFile file_;
};

// Counts are bounded so that a corrupt header cannot make us allocate gigabytes before the read fails.
constexpr std::uint32_t kMaxItems = 1'000'000;
constexpr std::uint32_t kMaxSide = 1024;

void read_images(const std::string& path, FashionMnistSplit& split) {
  IdxReader reader(path);
  if (reader.read_big_endian_u32("the magic number") != kImagesMagic) reader.fail("magic number is not 2051");
  const std::uint32_t count = reader.read_big_endian_u32("the item count");
  const std::uint32_t rows = reader.read_big_endian_u32("the row count");
  const std::uint32_t cols = reader.read_big_endian_u32("the column count");
  if (count == 0 || count > kMaxItems || rows == 0 || rows > kMaxSide || cols == 0 || cols > kMaxSide) {
    reader.fail("implausible dimensions " + std::to_string(count) + "x" + std::to_string(rows) + "x" +
                std::to_string(cols));
  }
  split.count = static_cast<int>(count);
  split.rows = static_cast<int>(rows);
  split.cols = static_cast<int>(cols);
  split.pixels.resize(std::size_t{count} * rows * cols);
  reader.read_exactly(split.pixels.data(), split.pixels.size(), "the pixels");
  reader.expect_end();
}

void read_labels(const std::string& path, FashionMnistSplit& split) {
  IdxReader reader(path);
  if (reader.read_big_endian_u32("the magic number") != kLabelsMagic) reader.fail("magic number is not 2049");
  const std::uint32_t count = reader.read_big_endian_u32("the item count");
  if (count != static_cast<std::uint32_t>(split.count)) {
    reader.fail("holds " + std::to_string(count) + " labels but the images file holds " +
                std::to_string(split.count) + " images");
  }
  split.labels.resize(count);
  reader.read_exactly(split.labels.data(), split.labels.size(), "the labels");
  reader.expect_end();
  for (std::uint8_t label : split.labels) {
    if (label >= kNumClasses) reader.fail("label " + std::to_string(label) + " is not a class index 0..9");
  }
}

}  // namespace

const std::vector<std::string>& fashion_mnist_labels() {
  static const std::vector<std::string> labels = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  return labels;
}

FashionMnistSplit read_fashion_mnist(const std::string& dir, const std::string& split) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";  // the IDX files keep the original MNIST naming
  } else {
    throw IoError("unknown Fashion-MNIST split '" + split + "' (expected train or test)");
  }
  const std::string base = (dir.empty() ? std::string(kFashionMnistDir) : dir) + "/" + prefix;
  FashionMnistSplit result;
  read_images(base + "-images-idx3-ubyte.gz", result);
  read_labels(base + "-labels-idx1-ubyte.gz", result);
  return result;
}

}  // namespace pixab
