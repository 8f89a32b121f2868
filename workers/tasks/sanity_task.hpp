// The sanity task (metrics.md): each row's maps recomputed on every stage of the cascading randomisation of
// the model's parameters, compared with the original maps.
#pragma once

#include <memory>

#include "workers/metrics/sanity.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {

class SanityTask : public Task {
 public:
  // ConfigError for more stages than the model has parameter groups (SanityCheck).
  SanityTask(const Model& model, int stages, std::uint64_t seed) : check_(model, stages, seed) {}

  std::string name() const override { return "sanity"; }
  void declare_arrays(const std::vector<std::string>& method_ids, ArraySpecs& specs) const override;
  BatchArrays batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& methods, CamBatch& batch,
                           const BatchResults& results) const override;
  // sanity_stages: the stages' names, comma-joined (`pixab report` and `render` label the stages with them).
  std::map<std::string, std::string> attributes() const override;

 private:
  SanityCheck check_;
};

}  // namespace pixab
