// Helpers shared by the unit tests: temporary folders and small TorchScript models built in the test.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/model.hpp"

namespace pixab::test {

// Temporary folders, of both kinds below, go under $PIXAB_TEST_TMP (set by CTest) or else pixab-tests in the
// system temp folder.

// Element-wise |actual - expected| <= tolerance (absolute), same shapes; prints both tensors when it fails.
void expect_tensor_near(const torch::Tensor& actual, const torch::Tensor& expected, double tolerance);

// A new empty folder named after `name` and the process, emptied first if a previous run left it behind.
std::string fresh_temp_dir(const std::string& name);

// A new empty folder with a unique name (mkdtemp) starting with `name`, removed with its contents when the
// object goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` (which may contain '/') inside the folder; nothing is created.
  std::string file(const std::string& name) const;
  // The names of the folder's direct entries, sorted.
  std::vector<std::string> entries() const;

 private:
  std::string path_;
};

// Writes `content` to `path`, creating its folder.
void write_file(const std::string& path, const std::string& content);

// Writes a PNG of raw samples (rows without filter bytes; 16-bit samples big-endian) without OpenCV, for
// colour types cv::imwrite cannot write (greyscale + alpha). colour_type as in the PNG specification.
void write_png(const std::string& path, std::uint32_t width, std::uint32_t height, int bit_depth,
               int colour_type, const std::string& samples);

// A PNG of 69 bytes whose header claims width x height 8-bit RGB pixels but whose data holds almost none:
// decoders must refuse it from the header.
void write_png_header_only(const std::string& path, std::uint32_t width, std::uint32_t height);

// Saves a TorchScript module defined by `source` (its methods) with the given parameters and, unless
// meta_json is empty, a pixab.json extra file. Returns the file path.
std::string save_scripted_model(const std::string& path, const std::string& source,
                                const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                                const std::string& meta_json);

// Saves the module as save_scripted_model does, in fresh_temp_dir(name), and loads it on the CPU under the
// model contract.
Model load_scripted_model(const std::string& name, const std::string& source,
                          const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                          const std::string& meta_json);

// A pixab.json for a model with the given input size, channels and class count (stretch resize, no labels).
std::string simple_meta_json(int height, int width, int channels, int num_classes);

// The invariants' model of methods.md: features = identity, head = global average pool then linear (W, b).
inline constexpr const char* kGapLinearSource = R"(
def features(self, x):
    return x

def head(self, a):
    return torch.matmul(torch.mean(a, [2, 3]), self.weight.t()) + self.bias

def forward(self, x):
    return self.head(self.features(x))
)";

// features = identity, z_c = sum_kij V_ckij A_kij: the gradient g = V_c differs from cell to cell.
inline constexpr const char* kSpatialLinearSource = R"(
def features(self, x):
    return x

def head(self, a):
    return torch.sum(a.unsqueeze(1) * self.v, [2, 3, 4])

def forward(self, x):
    return self.head(self.features(x))
)";

}  // namespace pixab::test
