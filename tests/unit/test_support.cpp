// Test helpers: temporary folders and scripted models.
#include "tests/unit/test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>  // getenv, and mkdtemp (POSIX)
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace pixab::test {

void expect_tensor_near(const torch::Tensor& actual, const torch::Tensor& expected, double tolerance) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, /*rtol=*/0, tolerance)) << "actual\n"
                                                                        << actual << "\nexpected\n"
                                                                        << expected;
}

namespace fs = std::filesystem;

namespace {

// The folder both kinds of temporary folder go under, created if missing.
fs::path temp_root() {
  const char* base = std::getenv("PIXAB_TEST_TMP");
  const fs::path root =
      base != nullptr && *base != '\0' ? fs::path(base) : fs::temp_directory_path() / "pixab-tests";
  fs::create_directories(root);
  return root;
}

}  // namespace

std::string fresh_temp_dir(const std::string& name) {
  const fs::path dir = temp_root() / (name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

TempDir::TempDir(const std::string& name) {
  const fs::path root = temp_root();
  std::string pattern = (root / (name + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed under " + root.string());
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor must not throw; a leftover folder is harmless
  fs::remove_all(path_, ignored);
}

std::string TempDir::file(const std::string& name) const { return (fs::path(path_) / name).string(); }

std::vector<std::string> TempDir::entries() const {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(path_)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string save_scripted_model(const std::string& path, const std::string& source,
                                const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                                const std::string& meta_json) {
  torch::jit::Module module("TestModel");
  for (const auto& [name, value] : parameters) module.register_parameter(name, value, /*is_buffer=*/false);
  module.define(source);
  torch::jit::ExtraFilesMap extra;
  if (!meta_json.empty()) extra["pixab.json"] = meta_json;
  module.save(path, extra);
  return path;
}

Model load_scripted_model(const std::string& name, const std::string& source,
                          const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                          const std::string& meta_json) {
  return Model::load(save_scripted_model(fresh_temp_dir(name) + "/model.pt", source, parameters, meta_json),
                     torch::kCPU);
}

std::string simple_meta_json(int height, int width, int channels, int num_classes) {
  nlohmann::json meta{{"name", "test-model"},
                      {"input_size", {height, width}},
                      {"channels", channels},
                      {"mean", std::vector<double>(channels, 0.0)},
                      {"std", std::vector<double>(channels, 1.0)},
                      {"resize", {{"mode", "stretch"}}},
                      {"num_classes", num_classes}};
  return meta.dump();
}

}  // namespace pixab::test
