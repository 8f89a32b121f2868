// Test helpers: temporary folders and scripted models.
#include "tests/unit/test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>  // getenv, and mkdtemp (POSIX)
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <zlib.h>
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

void write_file(const std::string& path, const std::string& content) {
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  std::ofstream(path, std::ios::binary) << content;
}

namespace {

std::string big_endian32(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
}

// Length, type, data and CRC.
std::string png_chunk(const std::string& type_and_data) {
  const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(type_and_data.data()),
                                                    static_cast<uInt>(type_and_data.size())));
  return big_endian32(static_cast<std::uint32_t>(type_and_data.size() - 4)) + type_and_data +
         big_endian32(crc);
}

void write_png_chunks(const std::string& path, std::uint32_t width, std::uint32_t height, int bit_depth,
                      int colour_type, const std::string& compressed_rows) {
  const std::string ihdr = "IHDR" + big_endian32(width) + big_endian32(height) +
                           std::string{static_cast<char>(bit_depth), static_cast<char>(colour_type), 0, 0, 0};
  write_file(path, std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk(ihdr) +
                       png_chunk("IDAT" + compressed_rows) + png_chunk("IEND"));
}

}  // namespace

void write_png(const std::string& path, std::uint32_t width, std::uint32_t height, int bit_depth,
               int colour_type, const std::string& samples) {
  const std::size_t row_bytes = samples.size() / height;
  std::string filtered;  // filter type 0 (none) before every row
  for (std::size_t row = 0; row < height; ++row)
    filtered += '\0' + samples.substr(row * row_bytes, row_bytes);
  std::string compressed(compressBound(static_cast<uLong>(filtered.size())), '\0');
  uLongf compressed_size = static_cast<uLongf>(compressed.size());
  compress(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
           reinterpret_cast<const Bytef*>(filtered.data()), static_cast<uLong>(filtered.size()));
  compressed.resize(compressed_size);
  write_png_chunks(path, width, height, bit_depth, colour_type, compressed);
}

void write_png_header_only(const std::string& path, std::uint32_t width, std::uint32_t height) {
  write_png_chunks(path, width, height, 8, 2,
                   std::string("\x78\x9c\x63\x60\xa0\x3d\x00\x00\x00\x64\x00\x01", 12));
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
