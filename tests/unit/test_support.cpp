// Test helpers: temporary folders and scripted models.
#include "tests/unit/test_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace pixab::test {

std::string fresh_temp_dir(const std::string& name) {
  const char* base = std::getenv("PIXAB_TEST_TMP");
  const std::filesystem::path root = base ? base : std::filesystem::temp_directory_path() / "pixab-tests";
  const auto dir = root / (name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
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
