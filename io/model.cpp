// Loading TorchScript models and checking every rule of the model contract at load time.
#include "io/model.hpp"

#include <torch/cuda.h>

#include <filesystem>
#include <sstream>

#include "io/error.hpp"
#include "io/interruption.hpp"
#include "io/sha256.hpp"

namespace pixab {

namespace {

constexpr const char* kMetaFile = "pixab.json";

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

// First line of a c10::Error: the rest is a C++ stack trace that helps nobody reading a model error.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return torch::Device(torch::kCPU);
  if (text.rfind("cuda", 0) == 0) {
    int index = 0;
    if (text.size() > 4) {
      if (text[4] != ':' || text.size() == 5 ||
          text.find_first_not_of("0123456789", 5) != std::string::npos) {
        throw ConfigError("device: expected cpu, cuda or cuda:N, got '" + text + "'");
      }
      try {
        index = std::stoi(text.substr(5));
      } catch (const std::out_of_range&) {
        throw ConfigError("device '" + text + "': no such CUDA device");
      }
    }
    if (!torch::cuda::is_available()) {
      throw ConfigError("device '" + text + "': this LibTorch build or this machine has no CUDA device");
    }
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      throw ConfigError("device '" + text + "': only " + std::to_string(torch::cuda::device_count()) +
                        " CUDA device(s) visible");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw ConfigError("device: expected cpu, cuda or cuda:N, got '" + text + "'");
}

Model::Model(torch::jit::Module module, ModelMeta meta, std::string path, torch::Device device)
    : module_(std::move(module)), meta_(std::move(meta)), path_(std::move(path)), device_(device) {}

Model Model::deep_copy() const {
  Model copy(module_.deepcopy(), meta_, path_, device_);
  copy.sha256_ = sha256_;
  copy.feature_channels_ = feature_channels_;
  copy.grid_height_ = grid_height_;
  copy.grid_width_ = grid_width_;
  return copy;
}

Model Model::load(const std::string& path, const torch::Device& device) {
  Model model = load(path, device, std::string());
  model.sha256_ = sha256_file(path);
  return model;
}

Model Model::load(const std::string& path, const torch::Device& device, std::string known_sha256) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw ModelError("model " + path + ": file not found");

  // The profiling graph executor re-optimises a method after its first calls, which can change float results
  // between calls; the plain interpreter keeps every call identical (batch-size independence, G1).
  torch::jit::setGraphExecutorOptimize(false);

  torch::jit::ExtraFilesMap extra{{kMetaFile, ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device, extra);
  } catch (const c10::Error& e) {
    throw ModelError("model " + path + ": not a loadable TorchScript file: " + first_line(e.what()));
  }
  if (extra[kMetaFile].empty()) {
    throw ModelError("model " + path + ": no pixab.json inside the archive (save it with _extra_files)");
  }
  ModelMeta meta = parse_model_meta(extra[kMetaFile], path);
  module.eval();

  Model model(std::move(module), std::move(meta), path, device);
  model.check_contract();
  model.sha256_ = std::move(known_sha256);
  return model;
}

void Model::check_contract() {
  for (const char* method : {"features", "head", "forward"}) {
    if (!module_.find_method(method)) {
      throw ModelError("model " + path_ + ": missing method '" + method +
                       "' (the contract needs features, head and forward)");
    }
  }
  torch::NoGradGuard no_grad;
  const auto input_shape = std::vector<int64_t>{2, meta_.channels, meta_.input_height, meta_.input_width};
  auto call = [&](const char* method, const torch::Tensor& x) {
    try {
      return module_.get_method(method)({x}).toTensor();
    } catch (const std::exception& e) {
      throw ModelError("model " + path_ + ": " + method + " fails on an input of shape " + shape_text(x) +
                       " (from pixab.json): " + first_line(e.what()));
    }
  };

  const torch::Tensor zeros = torch::zeros(input_shape, torch::TensorOptions().device(device_));
  const torch::Tensor a = call("features", zeros);
  if (a.dim() != 4 || a.size(0) != 2) {
    throw ModelError("model " + path_ + ": features must return [B,K,h,w], got " + shape_text(a) +
                     " for input " + shape_text(zeros));
  }
  feature_channels_ = static_cast<int>(a.size(1));
  grid_height_ = static_cast<int>(a.size(2));
  grid_width_ = static_cast<int>(a.size(3));
  for (const auto& [method, out] :
       {std::pair{"head", call("head", a)}, std::pair{"forward", call("forward", zeros)}}) {
    if (out.dim() != 2 || out.size(0) != 2 || out.size(1) != meta_.num_classes) {
      throw ModelError("model " + path_ + ": " + method + " must return [B," +
                       std::to_string(meta_.num_classes) + "] (num_classes from pixab.json), got " +
                       shape_text(out));
    }
  }

  // On zeros a wrong forward could still agree (e.g. all biases), so compare on a fixed pseudo-random input.
  auto generator = at::detail::createCPUGenerator(20221001);
  const torch::Tensor x = at::randn(input_shape, generator, torch::kFloat).to(device_);
  const torch::Tensor direct = call("forward", x);
  const torch::Tensor split = call("head", call("features", x));
  const double scale = std::max(1.0, direct.abs().max().item<double>());
  const double diff = (direct - split).abs().max().item<double>();
  if (!(diff <= 1e-4 * scale)) {
    throw ModelError("model " + path_ + ": forward(x) differs from head(features(x)) by up to " +
                     std::to_string(diff) + " (the contract requires forward = head(features(x)))");
  }
}

// Each pass is an interruption point: a stop request is seen before the next one starts.
torch::Tensor Model::features(const torch::Tensor& x) const {
  interruption_point();
  return module_.get_method("features")({x}).toTensor();
}

torch::Tensor Model::head(const torch::Tensor& a) const {
  interruption_point();
  return module_.get_method("head")({a}).toTensor();
}

torch::Tensor Model::forward(const torch::Tensor& x) const {
  interruption_point();
  return module_.get_method("forward")({x}).toTensor();
}

}  // namespace pixab
