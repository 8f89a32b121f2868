// Trains the embedded demo model on Fashion-MNIST items at random canvas positions and exports it as
// TorchScript under the model contract (features / head / forward, BatchNorm folded, pixab.json metadata).
#include "workers/demo/demo_model.hpp"

#include <spdlog/spdlog.h>
#include <torch/nn.h>
#include <torch/optim.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "io/model_meta.hpp"
#include "io/process_status.hpp"
#include "io/rng.hpp"

namespace pixab {
namespace {

// ---- Architecture ----
// One table drives both the trainable network and the exported TorchScript source, so they cannot drift
// apart. Every layer is a 3x3 convolution (padding 1) + BatchNorm + ReLU, some followed by a 2x2 max pool.
// The first layer has stride 2 rather than a pool after it: at full 64x64 resolution the cost is mostly
// memory traffic, and skipping that resolution halved the time per training step. Stride 2 and two pools give
// the 8x8 grid of the target layer. The head keeps a spatial, non-linear layer before the global average
// pool, so that ablating target-layer channels is not equivalent to plain CAM's linear weighting.
struct ConvLayer {
  const char* name;
  int in_channels;
  int out_channels;
  int stride;
  bool pool_after;
  bool in_head;
};

constexpr int kGreyChannels = 1;  // trained on the single grey channel; see export_torchscript
constexpr ConvLayer kConvLayers[] = {
    {"block1", kGreyChannels, 16, 2, false, false},
    {"block2", 16, 32, 1, true, false},
    {"block3", 32, 64, 1, true, false},
    {"block4", 64, 64, 1, false, false},
    {"head_conv", 64, 64, 1, false, true},
};
constexpr const char* kTargetLayerDescription = "block4: conv 3x3 64->64 + ReLU, 8x8 grid (BatchNorm folded)";
constexpr const char* kClassifierName = "classifier";
constexpr int kNumClasses = 10;
constexpr int kTargetGrid = 8;
constexpr int kTargetChannels = 64;
constexpr double kBatchNormEps = 1e-5;

// ---- Training schedule ----
constexpr int kDefaultEpochs = 4;
constexpr int kBatchSize = 128;
constexpr int kEvalBatchSize = 500;
constexpr double kPeakLearningRate = 3e-3;
constexpr double kWeightDecay = 5e-4;
constexpr double kWarmupFraction = 0.25;
constexpr double kStartLearningRateDivisor = 25;   // one-cycle: start at peak / 25 ...
constexpr double kFinalLearningRateDivisor = 1e3;  // ... and anneal to peak / 1000
// Test placements come from their own stream, so a change of training budget does not move the test items.
constexpr std::uint64_t kTestPlacementStream = 0x7465737450;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- Data ----
// Normalisation of the model input. The mean is 0, so that the black background is 0 in model-input space:
// the methods and metrics that remove a pixel by setting it to 0 there (Score-CAM's baseline, deletion,
// Average Drop) then turn it into background, as on the canvases the model was trained on. The scale is the
// root mean square of the training canvases, rounded so that the metadata states it legibly; the three
// channels share it (grey items).
struct Normalisation {
  double mean = 0;
  double std = 1;
};

Normalisation canvas_normalisation(const FashionMnistSplit& train, int items) {
  const std::size_t item_pixels = static_cast<std::size_t>(train.rows) * train.cols;
  double sum_squares = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(items) * item_pixels; ++i) {
    const double v = train.pixels[i] / 255.0;
    sum_squares += v * v;
  }
  const double canvas_pixels = static_cast<double>(items) * kDemoInputSize * kDemoInputSize;
  const auto round4 = [](double v) { return std::round(v * 1e4) / 1e4; };
  return {0.0, round4(std::sqrt(std::max(sum_squares / canvas_pixels, 1e-4)))};
}

struct Placement {
  int item;
  int top;
  int left;
};

// Each item at a uniformly random position on the canvas, drawn from the portable generator so that the same
// seed gives the same data on every platform.
std::vector<Placement> random_placements(const std::vector<int>& items, const FashionMnistSplit& split,
                                         PortableRng& rng) {
  std::vector<Placement> placements;
  placements.reserve(items.size());
  for (int item : items) {
    const int top = static_cast<int>(rng.between(0, kDemoInputSize - split.rows));
    const int left = static_cast<int>(rng.between(0, kDemoInputSize - split.cols));
    placements.push_back({item, top, left});
  }
  return placements;
}

// Normalised grey canvases [B, 1, 64, 64] and their labels for placements[begin, end).
std::pair<torch::Tensor, torch::Tensor> make_batch(const FashionMnistSplit& split,
                                                   const std::vector<Placement>& placements,
                                                   std::size_t begin, std::size_t end,
                                                   const Normalisation& norm) {
  const auto count = static_cast<std::int64_t>(end - begin);
  torch::Tensor canvases = torch::zeros({count, 1, kDemoInputSize, kDemoInputSize});
  torch::Tensor labels = torch::empty({count}, torch::kLong);
  auto canvas = canvases.accessor<float, 4>();
  auto label = labels.accessor<std::int64_t, 1>();
  const std::size_t item_pixels = static_cast<std::size_t>(split.rows) * split.cols;
  for (std::int64_t b = 0; b < count; ++b) {
    const Placement& p = placements[begin + static_cast<std::size_t>(b)];
    const std::uint8_t* pixels = split.pixels.data() + static_cast<std::size_t>(p.item) * item_pixels;
    for (int r = 0; r < split.rows; ++r) {
      for (int c = 0; c < split.cols; ++c) {
        canvas[b][0][p.top + r][p.left + c] = pixels[r * split.cols + c] / 255.0f;
      }
    }
    label[b] = split.labels[static_cast<std::size_t>(p.item)];
  }
  canvases.sub_(norm.mean).div_(norm.std);
  return {canvases, labels};
}

// ---- Training network ----
struct ConvBnImpl : torch::nn::Module {
  explicit ConvBnImpl(const ConvLayer& layer)
      : conv(register_module(
            "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(layer.in_channels, layer.out_channels, 3)
                                          .stride(layer.stride)
                                          .padding(1)
                                          .bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(
                                     torch::nn::BatchNorm2dOptions(layer.out_channels).eps(kBatchNormEps)))) {
  }

  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }

  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
};
TORCH_MODULE(ConvBn);

struct DemoNetImpl : torch::nn::Module {
  DemoNetImpl() {
    for (const ConvLayer& layer : kConvLayers) {
      layers.push_back(register_module(layer.name, ConvBn(layer)));
    }
    classifier = register_module(kClassifierName, torch::nn::Linear(kTargetChannels, kNumClasses));
  }

  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      x = layers[i]->forward(x);
      if (kConvLayers[i].pool_after) x = torch::max_pool2d(x, 2);
    }
    return classifier(x.mean({2, 3}));
  }

  std::vector<ConvBn> layers;
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(DemoNet);

double one_cycle_learning_rate(double progress) {
  const double start = kPeakLearningRate / kStartLearningRateDivisor;
  const double final = kPeakLearningRate / kFinalLearningRateDivisor;
  const double pi = std::acos(-1.0);
  if (progress < kWarmupFraction) {
    const double t = progress / kWarmupFraction;
    return start + (kPeakLearningRate - start) * (1 - std::cos(pi * t)) / 2;
  }
  const double t = (progress - kWarmupFraction) / (1 - kWarmupFraction);
  return final + (kPeakLearningRate - final) * (1 + std::cos(pi * t)) / 2;
}

void train(DemoNet& net, const FashionMnistSplit& train_split, int items, int epochs,
           const Normalisation& norm, PortableRng& rng) {
  torch::optim::AdamW optimizer(net->parameters(),
                                torch::optim::AdamWOptions(kPeakLearningRate).weight_decay(kWeightDecay));
  const std::size_t batches_per_epoch = (static_cast<std::size_t>(items) + kBatchSize - 1) / kBatchSize;
  const double total_steps = static_cast<double>(batches_per_epoch) * epochs;
  std::vector<int> order(static_cast<std::size_t>(items));
  std::size_t step = 0;
  net->train();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = order.size(); i > 1; --i) {  // Fisher-Yates, on the portable generator
      std::swap(order[i - 1], order[rng.below(i)]);
    }
    const std::vector<Placement> placements = random_placements(order, train_split, rng);
    double loss_sum = 0;
    std::int64_t correct = 0;
    for (std::size_t begin = 0; begin < placements.size(); begin += kBatchSize, ++step) {
      const std::size_t end = std::min(placements.size(), begin + kBatchSize);
      auto [inputs, labels] = make_batch(train_split, placements, begin, end, norm);
      for (auto& group : optimizer.param_groups()) {
        group.options().set_lr(one_cycle_learning_rate(static_cast<double>(step) / total_steps));
      }
      optimizer.zero_grad();
      const torch::Tensor logits = net->forward(inputs);
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(end - begin);
      correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
    }
    spdlog::info("demo model: epoch {}/{}: loss {:.4f}, train accuracy {:.2f}%, {:.1f} s", epoch, epochs,
                 loss_sum / items, 100.0 * static_cast<double>(correct) / items, seconds_since(epoch_start));
  }
  net->eval();
}

// ---- Export ----
// Conv (no bias) then eval-mode BatchNorm is one affine map per output channel, so it folds exactly into a
// conv with weight w * gamma / sqrt(var + eps) and bias beta - mean * gamma / sqrt(var + eps).
std::pair<torch::Tensor, torch::Tensor> fold_batch_norm(const ConvBn& layer) {
  const auto& bn = layer->bn;
  const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + kBatchNormEps);
  const torch::Tensor weight = layer->conv->weight * scale.view({-1, 1, 1, 1});
  const torch::Tensor bias = bn->bias - bn->running_mean * scale;
  return {weight.detach().clone(), bias.detach().clone()};
}

std::string conv_relu_statement(const char* var, const ConvLayer& layer) {
  std::ostringstream line;
  line << "    " << var << " = torch.relu(torch.conv2d(" << var << ", self." << layer.name << ".weight, self."
       << layer.name << ".bias, [" << layer.stride << ", " << layer.stride << "], [1, 1]))\n";
  if (layer.pool_after) line << "    " << var << " = torch.max_pool2d(" << var << ", [2, 2])\n";
  return line.str();
}

std::string torchscript_source() {
  std::string features = "def features(self, x):\n", head = "def head(self, a):\n";
  for (const ConvLayer& layer : kConvLayers) {
    if (layer.in_head) {
      head += conv_relu_statement("a", layer);
    } else {
      features += conv_relu_statement("x", layer);
    }
  }
  features += "    return x\n";
  head += std::string("    return torch.linear(a.mean([2, 3]), self.") + kClassifierName + ".weight, self." +
          kClassifierName + ".bias)\n";
  return features + "\n" + head + "\ndef forward(self, x):\n    return self.head(self.features(x))\n";
}

// The trained network as a TorchScript module with plain (folded) parameters. The network was trained on one
// grey channel; the exported first layer takes RGB with that kernel split equally over R, G and B, which
// gives identical outputs on grey images (R = G = B) and treats colour images as the mean of their channels.
torch::jit::Module export_torchscript(const DemoNet& net) {
  torch::NoGradGuard no_grad;
  torch::jit::Module module("PixabDemoFashionMnist");
  // One submodule per layer, so that the layers are the parameter groups of the sanity check's cascade.
  const auto add_layer = [&module](const std::string& name, const char* kind, const torch::Tensor& weight,
                                   const torch::Tensor& bias) {
    torch::jit::Module layer(std::string("PixabDemo") + kind + "_" + name);
    layer.register_parameter("weight", weight, /*is_buffer=*/false);
    layer.register_parameter("bias", bias, /*is_buffer=*/false);
    module.register_module(name, layer);
  };
  for (std::size_t i = 0; i < net->layers.size(); ++i) {
    auto [weight, bias] = fold_batch_norm(net->layers[i]);
    if (i == 0) weight = weight.repeat({1, 3, 1, 1}) / 3;
    add_layer(kConvLayers[i].name, "Conv", weight, bias);
  }
  add_layer(kClassifierName, "Linear", net->classifier->weight.detach().clone(),
            net->classifier->bias.detach().clone());
  module.define(torchscript_source());
  module.eval();
  // The layer table must keep the contract's target grid; a dry run catches an edit that breaks it.
  const torch::Tensor features =
      module.run_method("features", torch::zeros({1, 3, kDemoInputSize, kDemoInputSize})).toTensor();
  const std::vector<std::int64_t> expected = {1, kTargetChannels, kTargetGrid, kTargetGrid};
  if (features.sizes() != torch::IntArrayRef(expected)) {
    throw std::logic_error("demo model: the target layer's output is " + c10::str(features.sizes()) +
                           ", not " + c10::str(torch::IntArrayRef(expected)));
  }
  return module;
}

// Serialised and loaded back, the module is what a user of the file gets; measuring the accuracy on it also
// checks the folding and the generated source against the trained network.
torch::jit::Module round_trip(const torch::jit::Module& module) {
  std::stringstream archive;
  module.save(archive);
  torch::jit::Module loaded = torch::jit::load(archive);
  loaded.eval();
  return loaded;
}

double test_accuracy(torch::jit::Module& module, const FashionMnistSplit& test_split, int items,
                     const Normalisation& norm, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  std::vector<int> first_items(static_cast<std::size_t>(items));
  std::iota(first_items.begin(), first_items.end(), 0);
  PortableRng rng(seed ^ kTestPlacementStream);
  const std::vector<Placement> placements = random_placements(first_items, test_split, rng);
  std::int64_t correct = 0;
  for (std::size_t begin = 0; begin < placements.size(); begin += kEvalBatchSize) {
    const std::size_t end = std::min(placements.size(), begin + kEvalBatchSize);
    auto [grey, labels] = make_batch(test_split, placements, begin, end, norm);
    const torch::Tensor logits = module.forward({grey.expand({-1, 3, -1, -1}).contiguous()}).toTensor();
    correct += logits.argmax(1).eq(labels).sum().item<std::int64_t>();
  }
  return static_cast<double>(correct) / items;
}

ModelMeta demo_model_meta(const Normalisation& norm) {
  ModelMeta meta;
  meta.name = "pixab-demo-fashion-mnist";
  meta.input_height = meta.input_width = kDemoInputSize;
  meta.channels = 3;
  meta.mean.assign(3, norm.mean);
  meta.std.assign(3, norm.std);
  meta.resize_mode = ResizeMode::kStretch;
  meta.num_classes = kNumClasses;
  meta.labels = fashion_mnist_labels();
  meta.target_layer = kTargetLayerDescription;
  return meta;
}

int clamp_to_available(int requested, int available) {
  return requested > 0 ? std::min(requested, available) : available;
}

}  // namespace

DemoModelReport build_demo_model(const std::string& out_path, const DemoModelOptions& options) {
  const auto start = Clock::now();
  // Fail before minutes of training, not after, when the output folder cannot be made.
  const auto out_dir = std::filesystem::absolute(out_path).parent_path();
  std::error_code dir_error;
  std::filesystem::create_directories(out_dir, dir_error);
  if (dir_error)
    throw IoError("cannot create " + out_dir.string() + " for the demo model: " + dir_error.message());
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(allowed_cpus().size());
  torch::set_num_threads(threads);
  torch::manual_seed(options.seed);
  PortableRng rng(options.seed);

  const std::string dir = options.fashion_mnist_dir.empty() ? kFashionMnistDir : options.fashion_mnist_dir;
  const FashionMnistSplit train_split = read_fashion_mnist(dir, "train");
  const FashionMnistSplit test_split = read_fashion_mnist(dir, "test");
  const int train_items = clamp_to_available(options.train_items, train_split.count);
  const int test_items = clamp_to_available(options.test_items, test_split.count);
  const int epochs = options.epochs > 0 ? options.epochs : kDefaultEpochs;
  const Normalisation norm = canvas_normalisation(train_split, train_items);
  spdlog::info("demo model: training on {} items for {} epochs with {} threads (input mean {}, std {})",
               train_items, epochs, threads, norm.mean, norm.std);

  DemoNet net;
  const auto training_start = Clock::now();
  train(net, train_split, train_items, epochs, norm, rng);
  const double training_seconds = seconds_since(training_start);
  torch::jit::Module module = round_trip(export_torchscript(net));
  const double accuracy = test_accuracy(module, test_split, test_items, norm, options.seed);
  spdlog::info("demo model: test accuracy {:.2f}% on {} items at random positions ({:.1f} s so far)",
               100 * accuracy, test_items, seconds_since(start));

  const nlohmann::json extra = {
      {"test_accuracy", accuracy},
      {"train",
       {{"epochs", epochs}, {"items", train_items}, {"seed", options.seed}, {"seconds", training_seconds}}}};
  torch::jit::ExtraFilesMap extra_files;
  extra_files["pixab.json"] = model_meta_to_json(demo_model_meta(norm), extra.dump());

  // Written beside the target and renamed, so a reader never sees a half-written model.
  const std::string tmp_path = out_path + ".tmp";
  try {
    module.save(tmp_path, extra_files);
  } catch (const c10::Error& e) {
    std::remove(tmp_path.c_str());
    throw IoError("cannot write the demo model to " + tmp_path + ": " + e.what_without_backtrace());
  }
  if (std::rename(tmp_path.c_str(), out_path.c_str()) != 0) {
    std::remove(tmp_path.c_str());
    throw IoError("cannot rename " + tmp_path + " to " + out_path);
  }

  DemoModelReport report;
  report.test_accuracy = accuracy;
  report.epochs = epochs;
  report.train_items = train_items;
  report.seconds = seconds_since(start);
  spdlog::info("demo model: saved {} ({:.1f} s in all)", out_path, report.seconds);
  return report;
}

}  // namespace pixab
