// The items of a task that needs no dataset (dap2): `count` all-zero canvases at the model's input size, ids
// "ae2_000000", "ae2_000001", ... (the index, zero-padded to six digits), no annotation.
#pragma once

#include <memory>

#include "io/dataset.hpp"

namespace pixab {

// config.canvas_count canvases of config.canvas_width x config.canvas_height (both > 0, else ConfigError).
std::unique_ptr<Dataset> open_canvas_dataset(const DatasetConfig& config);

}  // namespace pixab
