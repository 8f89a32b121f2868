// Helpers shared by the unit tests: fresh temporary folders and small TorchScript models built in the test.
#pragma once

#include <torch/script.h>

#include <string>
#include <utility>
#include <vector>

namespace pixab::test {

// A new empty folder under $PIXAB_TEST_TMP (set by CTest) or the system temp folder.
std::string fresh_temp_dir(const std::string& name);

// Saves a TorchScript module defined by `source` (its methods) with the given parameters and, unless meta_json is
// empty, a pixab.json extra file. Returns the file path.
std::string save_scripted_model(const std::string& path, const std::string& source,
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

}  // namespace pixab::test
