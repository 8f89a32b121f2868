// The natural task: the dataset's images as they are, one row per image; it adds nothing to the common work.
#pragma once

#include "workers/tasks/task.hpp"

namespace pixab {

class NaturalTask : public Task {
 public:
  std::string name() const override { return "natural"; }
};

}  // namespace pixab
