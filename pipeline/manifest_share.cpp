// Sharing rank 0's manifest and dataset files with the other ranks (see manifest_share.hpp).
#include "pipeline/manifest_share.hpp"

#include <cstdint>
#include <optional>
#include <utility>

#include "io/error.hpp"
#include "pipeline/mpi_util.hpp"
#include "pipeline/run.hpp"

namespace pixab {

namespace {

// Fixed-width little-endian integers and length-prefixed texts: the same bytes whatever the host.
class Writer {
 public:
  void number(std::uint64_t value) {
    for (int byte = 0; byte < 8; ++byte) bytes_.push_back(static_cast<char>((value >> (8 * byte)) & 0xff));
  }
  void text(const std::string& value) {
    number(value.size());
    bytes_ += value;
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  std::uint64_t number() {
    need(8);
    std::uint64_t value = 0;
    for (int byte = 0; byte < 8; ++byte)
      value |= std::uint64_t{static_cast<unsigned char>(bytes_[at_ + static_cast<std::size_t>(byte)])}
               << (8 * byte);
    at_ += 8;
    return value;
  }
  std::string text() {
    const std::uint64_t length = number();
    need(length);
    std::string value = bytes_.substr(at_, static_cast<std::size_t>(length));
    at_ += static_cast<std::size_t>(length);
    return value;
  }
  void finish() const {
    if (at_ != bytes_.size())
      throw IoError("shared manifest: " + std::to_string(bytes_.size() - at_) + " bytes too many");
  }

 private:
  void need(std::uint64_t count) const {
    if (count > bytes_.size() - at_) throw IoError("shared manifest: the bytes end early");
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace

std::string serialise_manifest(const Manifest& manifest) {
  Writer out;
  out.number(manifest.chunk_size);
  out.text(manifest.sha256);
  out.number(manifest.items.size());
  for (const DatasetItem& item : manifest.items) {
    out.text(item.id);
    out.text(item.image_path);
    out.text(item.annotation_path);
  }
  return out.take();
}

Manifest parse_manifest(const std::string& bytes) {
  Reader in(bytes);
  Manifest manifest;
  manifest.chunk_size = static_cast<std::size_t>(in.number());
  manifest.sha256 = in.text();
  const std::uint64_t count = in.number();
  // Each item takes at least 24 bytes: a count beyond that is a corrupt length, not a reason to allocate.
  if (count > bytes.size() / 24)
    throw IoError("shared manifest: " + std::to_string(count) + " items cannot fit");
  manifest.items.resize(static_cast<std::size_t>(count));
  for (DatasetItem& item : manifest.items) {
    item.id = in.text();
    item.image_path = in.text();
    item.annotation_path = in.text();
  }
  in.finish();
  return manifest;
}

std::string serialise_files(const std::map<std::string, std::string>& files) {
  Writer out;
  out.number(files.size());
  for (const auto& [path, contents] : files) {
    out.text(path);
    out.text(contents);
  }
  return out.take();
}

std::map<std::string, std::string> parse_files(const std::string& bytes) {
  Reader in(bytes);
  std::map<std::string, std::string> files;
  for (std::uint64_t count = in.number(); count > 0; --count) {
    std::string path = in.text();
    files[std::move(path)] = in.text();
  }
  in.finish();
  return files;
}

SharedDataset share_dataset(const DatasetConfig& config, int limit, int chunk_size) {
  SharedDataset shared;
  std::map<std::string, std::string> files_read;  // rank 0: the dataset-level files, as it read them
  on_rank0_or_refused([&] {
    DatasetSource source;
    source.read = [&](const std::string& path) {
      std::optional<std::string> contents = read_file_contents(path);
      if (contents) files_read[path] = *contents;
      return contents;
    };
    shared.dataset = open_dataset(config, source);
    shared.manifest = build_manifest(*shared.dataset, config, limit, chunk_size);
  });
  const bool root = mpi::rank() == 0;
  const std::string manifest_bytes =
      mpi::broadcast(root ? serialise_manifest(shared.manifest) : std::string());
  const std::string files_bytes = mpi::broadcast(root ? serialise_files(files_read) : std::string());
  if (root) return shared;

  shared.manifest = parse_manifest(manifest_bytes);
  const std::map<std::string, std::string> files = parse_files(files_bytes);
  DatasetSource source;
  source.listed = shared.manifest.items;
  // The same config asks for the same files; one rank 0 did not read (it cannot happen) is read here.
  source.read = [&](const std::string& path) -> std::optional<std::string> {
    const auto found = files.find(path);
    return found != files.end() ? std::optional<std::string>(found->second) : read_file_contents(path);
  };
  shared.dataset = open_dataset(config, source);
  return shared;
}

}  // namespace pixab
