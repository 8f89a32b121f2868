// FEM, the feature explanation method (Fuad et al. 2020): a channel's weight is the share of its cells that
// stand out, by the k-sigma rule, from the channel's own distribution; no gradients, no target.
// w_k = mean_ij [A^k_ij > mean(A^k) + k std(A^k)] (population std, strict >), L = s(ReLU(sum_k w_k A^k)).
#include "workers/cams/cam_math.hpp"
#include "workers/cams/cam_method.hpp"

namespace pixab {
namespace {

class Fem : public CamMethod {
 public:
  explicit Fem(double sigmas) : sigmas_(sigmas) {}
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override {
    const auto& a = batch.activations();
    const auto mean = a.mean({2, 3}, /*keepdim=*/true);
    const auto std = a.std({2, 3}, /*unbiased=*/false, /*keepdim=*/true);
    const auto weights = (a > mean + sigmas_ * std).to(a.scalar_type()).mean({2, 3});
    return {weighted_cam(a, weights), weights, {}, {}};
  }

 private:
  double sigmas_;
};

}  // namespace

const CamMethodSpec& fem_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "fem";
    s.title = "FEM (Fuad et al. 2020)";
    s.settings = {"fem.k"};
    s.make = [](const std::string&, const CamSettings& settings) {
      return std::make_unique<Fem>(settings.fem_sigmas);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& Fem::spec() const { return fem_spec(); }

}  // namespace pixab
