// A TorchScript model under the model contract: features / head / forward plus pixab.json
// (docs/model-contract.md).
#pragma once

#include <torch/script.h>

#include <string>

#include "io/model_meta.hpp"

namespace pixab {

class Model {
 public:
  // Loads and checks the contract (methods, shapes on a dry run, forward == head(features), metadata).
  // ModelError naming the file and the problem on any violation. TorchScript is code: only load files you
  // trust.
  static Model load(const std::string& path, const torch::Device& device);
  // The same, with the file's SHA-256 as computed elsewhere (by MPI rank 0, which hashed this path): the file
  // is read once, by TorchScript, not a second time for its hash.
  static Model load(const std::string& path, const torch::Device& device, std::string known_sha256);

  torch::Tensor features(const torch::Tensor& x) const;  // [B,C,H,W] -> [B,K,h,w]
  torch::Tensor head(const torch::Tensor& a) const;      // [B,K,h,w] -> [B,N] logits
  torch::Tensor forward(const torch::Tensor& x) const;   // [B,C,H,W] -> [B,N] logits

  const ModelMeta& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  const std::string& sha256() const { return sha256_; }
  const torch::Device& device() const { return device_; }
  int feature_channels() const { return feature_channels_; }  // K
  int grid_height() const { return grid_height_; }            // h
  int grid_width() const { return grid_width_; }              // w

  // The underlying module, for tasks that change parameters (the sanity check).
  torch::jit::Module& module() { return module_; }
  const torch::jit::Module& module() const { return module_; }

  // An independent copy (parameters and buffers copied), e.g. to randomise without touching this model.
  Model deep_copy() const;

 private:
  Model(torch::jit::Module module, ModelMeta meta, std::string path, torch::Device device);
  void check_contract();

  mutable torch::jit::Module module_;
  ModelMeta meta_;
  std::string path_;
  std::string sha256_;
  torch::Device device_;
  int feature_channels_ = 0, grid_height_ = 0, grid_width_ = 0;
};

// Parses "cpu", "cuda", "cuda:N"; ConfigError for anything else or a CUDA device this build or machine lacks.
torch::Device parse_device(const std::string& text);

}  // namespace pixab
