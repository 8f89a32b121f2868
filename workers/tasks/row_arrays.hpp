// The per-row arrays of a task: each declared once (path, element type, row shape, fill of failed rows), and
// the buffers of a run of rows made from those declarations, so that the file's layout and the copy of every
// row come from the same place and every write is checked against it.
#pragma once

#include <torch/script.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "io/typed_array.hpp"

namespace pixab {

struct ArraySpec {
  std::string path;  // in-file path, e.g. "maps/grad_cam"
  DType dtype = DType::kFloat32;
  std::vector<std::uint64_t> row_shape;  // {} for one value per row
  double fill = std::numeric_limits<double>::quiet_NaN();  // the value of rows that were not computed
};

// The declarations of a configuration, in declaration order.
class ArraySpecs {
 public:
  // std::logic_error for a path declared twice, or NaN fill for an integer type: both are bugs.
  void add(ArraySpec spec);
  const std::vector<ArraySpec>& all() const { return specs_; }
  // std::logic_error naming the path when it was never declared.
  const ArraySpec& at(const std::string& path) const;

 private:
  std::vector<ArraySpec> specs_;
  std::map<std::string, std::size_t> index_;
};

// The arrays of `rows` rows, each [rows, row shape...] of its declared type, every row at its fill until
// written.
class RowArrays {
 public:
  RowArrays(const ArraySpecs& specs, std::size_t rows);

  // values[i] (any device and numeric type; converted to the declared type on the host) becomes row rows[i]
  // of `path`. std::logic_error when the path is undeclared, values is not [rows.size(), row shape...], or a
  // row index is out of range: the layout and the producer disagree, which is a bug, not bad input.
  void write(const std::string& path, const std::vector<std::size_t>& rows, const torch::Tensor& values);

  std::size_t rows() const { return rows_; }
  const std::map<std::string, TypedArray>& arrays() const { return arrays_; }
  std::map<std::string, TypedArray> release() { return std::move(arrays_); }

 private:
  const ArraySpecs& specs_;
  std::size_t rows_;
  std::map<std::string, TypedArray> arrays_;
};

}  // namespace pixab
