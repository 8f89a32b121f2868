// Pixab-CAM (Eqns. 7, 8; Appendix B): pixel-wise weights from ablation boxes slid over the activation grid,
// from the deletion and the preservation perspective; the activation tensor does not enter the map.
#pragma once

#include <utility>
#include <vector>

#include "workers/cams/cam_method.hpp"

namespace pixab {

class PixabCam : public CamMethod {
 public:
  PixabCam(std::string id, PixabSettings settings, int head_batch_size)
      : id_(std::move(id)), settings_(std::move(settings)), head_batch_size_(head_batch_size) {}
  std::string id() const override { return id_; }
  const CamMethodSpec& spec() const override;
  CamResult compute(CamBatch& batch) const override;

  // Every placement of every box size on an h x w grid: cell masks [P,h,w] (1 inside the clipped box) and,
  // per box size in settings order, its [first, first + count) range of placements.
  struct Placements {
    torch::Tensor masks;
    std::vector<std::pair<int64_t, int64_t>> ranges;
  };
  static Placements placements(const PixabSettings& settings, int h, int w);

  // Head passes per image: placements per perspective used.
  static int64_t head_passes(const PixabSettings& settings, int h, int w);

  // The settings of `id`: settings.pixab for `pixab_cam`, the named variant's for `pixab_cam@<name>`;
  // ConfigError for a variant settings.variants does not name.
  static const PixabSettings& settings_of(const std::string& id, const CamSettings& settings);

 private:
  const Placements& placements_on(const torch::Tensor& activations, int h, int w) const;

  std::string id_;
  PixabSettings settings_;
  int head_batch_size_;
  mutable Placements cached_;  // placements on the last grid and device seen
};

// The registry entry of pixab_cam and its variants.
const CamMethodSpec& pixab_cam_spec();

}  // namespace pixab
