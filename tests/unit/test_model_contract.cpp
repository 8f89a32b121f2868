// The model contract: a good model loads; each violation gives its own error naming the file and the problem.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "io/error.hpp"
#include "io/model.hpp"
#include "io/sha256.hpp"
#include "tests/unit/test_support.hpp"

namespace pixab {
namespace {

using test::kGapLinearSource;
using test::save_scripted_model;
using test::simple_meta_json;

class ModelContract : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::fresh_temp_dir("model-contract"); }

  std::vector<std::pair<std::string, torch::Tensor>> gap_parameters(int classes = 3) const {
    return {{"weight", torch::ones({classes, 2})}, {"bias", torch::zeros({classes})}};
  }

  // Saves a model and expects Model::load to fail with a message containing the path and `expected`.
  void expect_load_error(const std::string& name, const std::string& source,
                         const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                         const std::string& meta_json, const std::string& expected) {
    const std::string path = save_scripted_model(dir_ + "/" + name + ".pt", source, parameters, meta_json);
    try {
      Model::load(path, torch::kCPU);
      FAIL() << "expected a ModelError containing: " << expected;
    } catch (const ModelError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find(expected), std::string::npos) << what;
    }
  }

  std::string dir_;
};

TEST_F(ModelContract, GoodModelLoadsWithShapesMetadataAndDigest) {
  const std::string path = save_scripted_model(dir_ + "/good.pt", kGapLinearSource, gap_parameters(),
                                               simple_meta_json(4, 5, 2, 3));
  const Model model = Model::load(path, torch::kCPU);
  EXPECT_EQ(model.feature_channels(), 2);
  EXPECT_EQ(model.grid_height(), 4);
  EXPECT_EQ(model.grid_width(), 5);
  EXPECT_EQ(model.meta().num_classes, 3);
  EXPECT_EQ(model.meta().name, "test-model");
  EXPECT_EQ(model.sha256(), sha256_file(path));
  EXPECT_EQ(model.sha256().size(), 64u);
}

// MPI ranks other than 0 take rank 0's hash instead of reading the file a second time: the given hash is the
// model's, whatever the file's (here deliberately not it).
TEST_F(ModelContract, AKnownHashIsTakenNotComputed) {
  const std::string path = save_scripted_model(dir_ + "/known.pt", kGapLinearSource, gap_parameters(),
                                               simple_meta_json(4, 5, 2, 3));
  const std::string given(64, 'a');
  const Model model = Model::load(path, torch::kCPU, given);
  EXPECT_EQ(model.sha256(), given);
  EXPECT_EQ(model.feature_channels(), 2);  // the contract is checked all the same
  EXPECT_EQ(model.deep_copy().sha256(), given);
}

TEST_F(ModelContract, MissingFile) {
  try {
    Model::load(dir_ + "/absent.pt", torch::kCPU);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pt: file not found"), std::string::npos) << e.what();
  }
}

TEST_F(ModelContract, NotTorchScript) {
  const std::string path = dir_ + "/garbage.pt";
  std::ofstream(path) << "this is not a zip archive";
  try {
    Model::load(path, torch::kCPU);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("not a loadable TorchScript file"), std::string::npos) << e.what();
  }
}

TEST_F(ModelContract, MissingMetadata) {
  expect_load_error("no-meta", kGapLinearSource, gap_parameters(), "", "no pixab.json");
}

TEST_F(ModelContract, MetadataNotJson) {
  expect_load_error("bad-json", kGapLinearSource, gap_parameters(), "{name: oops", "not valid JSON");
}

TEST_F(ModelContract, MetadataMissingKey) {
  auto meta = nlohmann::json::parse(simple_meta_json(4, 4, 2, 3));
  meta.erase("mean");
  expect_load_error("no-mean", kGapLinearSource, gap_parameters(), meta.dump(),
                    "missing required key 'mean'");
}

TEST_F(ModelContract, MetadataLabelsOfWrongLength) {
  auto meta = nlohmann::json::parse(simple_meta_json(4, 4, 2, 3));
  meta["labels"] = {"a", "b"};
  expect_load_error("labels", kGapLinearSource, gap_parameters(), meta.dump(), "'labels' must be a list of");
}

TEST_F(ModelContract, MetadataBadResize) {
  auto meta = nlohmann::json::parse(simple_meta_json(4, 4, 2, 3));
  meta["resize"] = {{"mode", "resize_then_center_crop"}, {"resize_to", 3}};
  expect_load_error("resize", kGapLinearSource, gap_parameters(), meta.dump(), "centre crop cannot fit");
}

TEST_F(ModelContract, MissingHeadMethod) {
  const char* source = R"(
def features(self, x):
    return x

def forward(self, x):
    return torch.mean(x, [2, 3])
)";
  expect_load_error("no-head", source, {}, simple_meta_json(4, 4, 2, 2), "missing method 'head'");
}

TEST_F(ModelContract, FeaturesNotFourDimensional) {
  const char* source = R"(
def features(self, x):
    return torch.mean(x, [2, 3])

def head(self, a):
    return a

def forward(self, x):
    return self.head(self.features(x))
)";
  expect_load_error("flat-features", source, {}, simple_meta_json(4, 4, 2, 2),
                    "features must return [B,K,h,w]");
}

TEST_F(ModelContract, HeadDisagreesWithNumClasses) {
  // The head returns 3 logits, the metadata promises 5.
  expect_load_error("classes", kGapLinearSource, gap_parameters(3), simple_meta_json(4, 4, 2, 5),
                    "head must return [B,5]");
}

TEST_F(ModelContract, ForwardDisagreesWithHeadOfFeatures) {
  const char* source = R"(
def features(self, x):
    return x

def head(self, a):
    return torch.matmul(torch.mean(a, [2, 3]), self.weight.t()) + self.bias

def forward(self, x):
    return self.head(self.features(x)) + torch.mean(x)
)";
  expect_load_error("forward", source, gap_parameters(), simple_meta_json(4, 4, 2, 3),
                    "forward(x) differs from head(features(x))");
}

TEST_F(ModelContract, FeaturesFailOnTheMetadataInputSize) {
  // A model for 3-channel inputs whose metadata says 2 channels: the dry run catches it.
  const char* source = R"(
def features(self, x):
    return torch.conv2d(x, self.kernel)

def head(self, a):
    return torch.mean(a, [2, 3])

def forward(self, x):
    return self.head(self.features(x))
)";
  expect_load_error("channels", source, {{"kernel", torch::ones({2, 3, 1, 1})}}, simple_meta_json(4, 4, 2, 2),
                    "features fails on an input of shape [2, 2, 4, 4]");
}

TEST(Device, ParsesCpuAndRejectsNonsense) {
  EXPECT_EQ(parse_device("cpu").type(), torch::kCPU);
  EXPECT_THROW(parse_device("gpu"), ConfigError);
  EXPECT_THROW(parse_device("cuda:x"), ConfigError);
}

}  // namespace
}  // namespace pixab
