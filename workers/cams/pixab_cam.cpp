// Pixab-CAM. For a placement P with cell mask M_P: deletion d_P = (Y - score(head(A * (1 - M_P)))) / Y,
// preservation r_P = (score(head(A * M_P)) - Y~) / Y~ with Y~ = score(head(0_A)). Per box size, D_b(i,j) is
// the mean of d_P over the placements covering (i,j) (R_b likewise); D, R are the means over box sizes; L =
// s(ReLU(D * R)) (or D, or R).
#include "workers/cams/pixab_cam.hpp"

#include <algorithm>

#include "io/error.hpp"
#include "workers/cams/cam_flags.hpp"
#include "workers/cams/cam_math.hpp"

namespace pixab {

PixabCam::Placements PixabCam::placements(const PixabSettings& settings, int h, int w) {
  const bool full = settings.padding == PixabSettings::Padding::kFull;
  std::vector<torch::Tensor> masks;
  Placements out;
  for (const auto& [bh, bw] : settings.boxes) {
    const int64_t first = static_cast<int64_t>(masks.size());
    // full: every anchor whose box overlaps the grid, so each cell is covered by exactly bh*bw placements;
    // same: one anchor per cell, the box extending down and right.
    for (int r = full ? -(bh - 1) : 0; r <= h - 1; ++r) {
      for (int s = full ? -(bw - 1) : 0; s <= w - 1; ++s) {
        auto mask = torch::zeros({h, w});
        mask.slice(0, std::max(r, 0), std::min(r + bh, h))
            .slice(1, std::max(s, 0), std::min(s + bw, w))
            .fill_(1);
        masks.push_back(mask);
      }
    }
    out.ranges.emplace_back(first, static_cast<int64_t>(masks.size()) - first);
  }
  out.masks = torch::stack(masks);
  return out;
}

const PixabCam::Placements& PixabCam::placements_on(const torch::Tensor& activations, int h, int w) const {
  // Built once per grid and device: the grid is the same for every batch of a model.
  const bool same_grid = cached_.masks.defined() && cached_.masks.size(1) == h &&
                         cached_.masks.size(2) == w && cached_.masks.device() == activations.device() &&
                         cached_.masks.scalar_type() == activations.scalar_type();
  if (!same_grid) {
    cached_ = placements(settings_, h, w);
    cached_.masks = cached_.masks.to(activations.options());
  }
  return cached_;
}

int64_t PixabCam::head_passes(const PixabSettings& settings, int h, int w) {
  const int64_t per_perspective = placements(settings, h, w).masks.size(0);
  return settings.terms == PixabSettings::Terms::kBoth ? 2 * per_perspective : per_perspective;
}

const PixabSettings& PixabCam::settings_of(const std::string& id, const CamSettings& settings) {
  const std::string variant_prefix = "pixab_cam@";
  if (id.rfind(variant_prefix, 0) != 0) return settings.pixab;
  const std::string name = id.substr(variant_prefix.size());
  for (const auto& [variant, pixab] : settings.variants) {
    if (variant == name) return pixab;
  }
  throw ConfigError("CAM method '" + id + "': no Pixab variant named '" + name + "' in [pixab] variants");
}

namespace {

// Mean over box sizes of the per-cell mean of the placements' values covering each cell: values [B,P] ->
// [B,h,w].
torch::Tensor per_cell_mean(const torch::Tensor& values, const PixabCam::Placements& placements, int h,
                            int w) {
  torch::Tensor sum;
  for (const auto& [first, count] : placements.ranges) {
    const auto cover = placements.masks.narrow(0, first, count).reshape({count, h * w});
    const auto box_mean = values.narrow(1, first, count).matmul(cover) / cover.sum(0);
    sum = sum.defined() ? sum + box_mean : box_mean;
  }
  return (sum / static_cast<double>(placements.ranges.size())).view({values.size(0), h, w});
}

}  // namespace

CamResult PixabCam::compute(CamBatch& batch) const {
  const auto& a = batch.activations();
  const int64_t images = a.size(0), h = a.size(2), w = a.size(3);
  const Placements& places = placements_on(a, static_cast<int>(h), static_cast<int>(w));
  const int64_t count_per_image = places.masks.size(0);
  const auto row_targets = batch.targets().repeat_interleave(count_per_image);
  const auto long_options = a.options().dtype(torch::kLong);

  // Scores of A * mask (or * (1 - mask)) for every (image, placement) row, [B,P], in large head batches.
  auto placement_scores = [&](bool keep_inside) {
    const auto scores =
        chunked(images * count_per_image, head_batch_size_, [&](int64_t first, int64_t count) {
          const auto rows = torch::arange(first, first + count, long_options);
          auto masks = places.masks.index_select(0, rows.remainder(count_per_image));
          if (!keep_inside) masks.neg_().add_(1);
          auto masked = a.index_select(0, rows.div(count_per_image, "floor"));
          masked.mul_(masks.unsqueeze(1));
          torch::NoGradGuard no_grad;
          return class_score(batch.model().head(masked), row_targets.narrow(0, first, count),
                             settings_.score);
        });
    return scores.view({images, count_per_image});
  };

  const bool deletion = settings_.terms != PixabSettings::Terms::kPreservation;
  const bool preservation = settings_.terms != PixabSettings::Terms::kDeletion;
  CamResult result;
  auto flags = torch::zeros({images}, long_options.dtype(torch::kInt));
  torch::Tensor d_map, r_map;
  if (deletion) {
    const auto y = class_score(batch.logits(), batch.targets(), settings_.score).unsqueeze(1);
    d_map = per_cell_mean(divide_or_zero(y - placement_scores(false), y.expand({images, count_per_image})),
                          places, static_cast<int>(h), static_cast<int>(w));
    flags = flags | (y.squeeze(1) <= 0).to(torch::kInt);
    result.extra_maps["D"] = d_map;
  }
  if (preservation) {
    const auto zero_logits = batch.zero_activation_logits().unsqueeze(0).expand({images, -1});
    const auto y0 = class_score(zero_logits, batch.targets(), settings_.score).unsqueeze(1);
    r_map = per_cell_mean(divide_or_zero(placement_scores(true) - y0, y0.expand({images, count_per_image})),
                          places, static_cast<int>(h), static_cast<int>(w));
    flags = flags | (y0.squeeze(1) <= 0).to(torch::kInt);
    result.extra_maps["R"] = r_map;
  }
  if (settings_.strict) {
    if (d_map.defined()) d_map = torch::relu(d_map);
    if (r_map.defined()) r_map = torch::relu(r_map);
  }
  const auto p = deletion && preservation ? d_map * r_map : (deletion ? d_map : r_map);
  result.maps = minmax_normalise(torch::relu(p));
  result.flags = flags * static_cast<int>(kFlagPixabNonPositiveScore);
  return result;
}

const CamMethodSpec& pixab_cam_spec() {
  static const CamMethodSpec spec = [] {
    CamMethodSpec s;
    s.id = "pixab_cam";
    s.from_paper = true;
    s.title = "Pixab-CAM (Eqns. 7, 8; Appendix B)";
    s.needs.zero_activation_logits = true;  // Y~ = score(head(0_A)), for the preservation terms
    s.channel_weights = false;              // pixel weights: D and R instead
    s.extra_maps = {"D", "R"};
    s.variants = true;
    s.settings = {"pixab.boxes",  "pixab.padding",  "pixab.terms",    "pixab.score",
                  "pixab.strict", "pixab.variants", "head_batch_size"};
    // Every placement per image through the head, per perspective used; 0_A once per batch for preservation.
    s.passes = [](const std::string& id, const CamSettings& settings, const Model& model, int64_t images) {
      const PixabSettings& pixab = PixabCam::settings_of(id, settings);
      const auto masks =
          PixabCam::placements(pixab, model.grid_height(), model.grid_width()).masks.to(model.device());
      const int64_t rows = images * masks.size(0);
      PassPlan plan;
      if (pixab.terms != PixabSettings::Terms::kPreservation) {
        plan.push_back(
            {PassKind::kHead, RowContent::kPlacementRemoved, rows, settings.head_batch_size, masks});
      }
      if (pixab.terms != PixabSettings::Terms::kDeletion) {
        plan.push_back({PassKind::kHead, RowContent::kPlacementKept, rows, settings.head_batch_size, masks});
        plan.push_back({PassKind::kHead, RowContent::kZeros, 1, 1});
      }
      return plan;
    };
    s.make = [](const std::string& id, const CamSettings& settings) {
      return std::make_unique<PixabCam>(id, PixabCam::settings_of(id, settings), settings.head_batch_size);
    };
    return s;
  }();
  return spec;
}

const CamMethodSpec& PixabCam::spec() const { return pixab_cam_spec(); }

}  // namespace pixab
