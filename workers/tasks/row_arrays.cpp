// ArraySpecs and RowArrays (see row_arrays.hpp).
#include "workers/tasks/row_arrays.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace pixab {

namespace {

torch::ScalarType torch_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return torch::kFloat;
    case DType::kUInt8:
      return torch::kByte;
    case DType::kInt32:
      return torch::kInt;
    case DType::kInt64:
      return torch::kLong;
  }
  throw std::logic_error("no tensor type for this element type");
}

std::string tensor_shape_text(const torch::Tensor& t) {
  std::vector<std::uint64_t> shape;
  for (const auto size : t.sizes()) shape.push_back(static_cast<std::uint64_t>(size));
  return shape_text(shape);
}

}  // namespace

void ArraySpecs::add(ArraySpec spec) {
  if (index_.count(spec.path)) throw std::logic_error("array '" + spec.path + "' is declared twice");
  if (spec.dtype != DType::kFloat32 && std::isnan(spec.fill)) {
    throw std::logic_error("array '" + spec.path + "' of " + dtype_name(spec.dtype) + " needs a fill value");
  }
  index_[spec.path] = specs_.size();
  specs_.push_back(std::move(spec));
}

const ArraySpec& ArraySpecs::at(const std::string& path) const {
  const auto it = index_.find(path);
  if (it == index_.end()) throw std::logic_error("array '" + path + "' is not declared by this configuration");
  return specs_[it->second];
}

RowArrays::RowArrays(const ArraySpecs& specs, std::size_t rows) : specs_(specs), rows_(rows) {
  for (const ArraySpec& spec : specs.all()) {
    std::vector<std::uint64_t> shape{static_cast<std::uint64_t>(rows)};
    shape.insert(shape.end(), spec.row_shape.begin(), spec.row_shape.end());
    arrays_.emplace(spec.path, TypedArray::filled(spec.dtype, std::move(shape), spec.fill));
  }
}

void RowArrays::write(const std::string& path, const std::vector<std::size_t>& rows, const torch::Tensor& values) {
  const ArraySpec& spec = specs_.at(path);
  std::vector<int64_t> expected{static_cast<int64_t>(rows.size())};
  for (const auto dim : spec.row_shape) expected.push_back(static_cast<int64_t>(dim));
  if (values.sizes() != torch::IntArrayRef(expected)) {
    throw std::logic_error("array '" + path + "': " + std::to_string(rows.size()) + " rows of " +
                           shape_text(spec.row_shape) + " declared, a tensor of " + tensor_shape_text(values) +
                           " given");
  }
  TypedArray& array = arrays_.at(path);
  const auto host = values.to(torch::kCPU, torch_type(spec.dtype)).contiguous();
  const std::size_t row_bytes = array.row_size() * array.element_bytes();
  const auto* source = static_cast<const unsigned char*>(host.data_ptr());
  auto* target = static_cast<unsigned char*>(array.data());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= rows_) {
      throw std::logic_error("array '" + path + "': row " + std::to_string(rows[i]) + " of " +
                             std::to_string(rows_));
    }
    if (row_bytes > 0) std::memcpy(target + rows[i] * row_bytes, source + i * row_bytes, row_bytes);
  }
}

}  // namespace pixab
