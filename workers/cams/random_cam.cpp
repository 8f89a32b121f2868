// Random-CAM: channel weights drawn uniformly from [-1, 1) by the item's own generator (seed, item id): the
// baseline any explanation must beat. L = s(ReLU(sum_k w_k A^k)).
#include <stdexcept>

#include "io/rng.hpp"
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class RandomCam : public CamMethod {
 public:
  explicit RandomCam(std::uint64_t seed) : seed_(seed) {}
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto& a = batch.activations();
    if (batch.item_ids().empty()) throw std::logic_error("random_cam: the CamBatch's item ids were not set");
    const int64_t channels = a.size(1);
    auto weights = torch::empty({a.size(0), channels}, torch::kFloat);
    auto drawn = weights.accessor<float, 2>();
    for (int64_t b = 0; b < a.size(0); ++b) {
      PortableRng rng(item_seed(seed_, batch.item_ids()[static_cast<std::size_t>(b)]));
      for (int64_t k = 0; k < channels; ++k) drawn[b][k] = static_cast<float>(2 * rng.uniform() - 1);
    }
    weights = weights.to(a.device(), a.scalar_type());
    return {weighted_cam(a, weights), weights, {}, {}};
  }

 private:
  std::uint64_t seed_;
};

}  // namespace

const CamMethodSpec& random_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "random_cam";
    s.title = "Random-CAM (baseline)";
    s.settings = {"seed"};
    s.make = [](const std::string&, const CamSettings& settings) {
      return std::make_unique<RandomCam>(settings.seed);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& RandomCam::spec() const { return random_cam_spec(); }

}  // namespace pixab
