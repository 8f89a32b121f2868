// The sanity task: SanityCheck's arrays for every method of the batch.
#include "workers/tasks/sanity_task.hpp"

namespace pixab {

void SanityTask::declare_arrays(const std::vector<std::string>& method_ids, ArraySpecs& specs) const {
  for (const auto& id : method_ids) check_.declare_arrays(id, specs);
}

BatchArrays SanityTask::batch_arrays(const std::vector<std::unique_ptr<CamMethod>>& methods, CamBatch& batch,
                                     const BatchResults& results) const {
  return check_.evaluate(methods, batch, results.maps);
}

std::map<std::string, std::string> SanityTask::attributes() const {
  std::string names;
  for (const auto& name : check_.stage_names()) names += (names.empty() ? "" : ",") + name;
  return {{"sanity_stages", names}};
}

}  // namespace pixab
