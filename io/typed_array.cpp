// TypedArray's type-independent operations.
#include "io/typed_array.hpp"

#include <stdexcept>

namespace pixab {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
  }
  return "unknown";
}

TypedArray TypedArray::filled(DType dtype, std::vector<std::uint64_t> shape, double fill) {
  std::size_t count = 1;
  for (const auto dim : shape) count *= static_cast<std::size_t>(dim);
  TypedArray array;
  array.shape = std::move(shape);
  switch (dtype) {
    case DType::kFloat32:
      array.values = std::vector<float>(count, static_cast<float>(fill));
      break;
    case DType::kUInt8:
      array.values = std::vector<std::uint8_t>(count, static_cast<std::uint8_t>(fill));
      break;
    case DType::kInt32:
      array.values = std::vector<std::int32_t>(count, static_cast<std::int32_t>(fill));
      break;
    case DType::kInt64:
      array.values = std::vector<std::int64_t>(count, static_cast<std::int64_t>(fill));
      break;
  }
  return array;
}

std::size_t TypedArray::element_count() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

std::size_t TypedArray::element_bytes() const {
  return std::visit([](const auto& v) { return sizeof(typename std::decay_t<decltype(v)>::value_type); }, values);
}

std::size_t TypedArray::row_size() const {
  std::size_t size = 1;
  for (std::size_t d = 1; d < shape.size(); ++d) size *= static_cast<std::size_t>(shape[d]);
  return size;
}

const void* TypedArray::data() const {
  return std::visit([](const auto& v) { return static_cast<const void*>(v.data()); }, values);
}

void* TypedArray::data() {
  return std::visit([](auto& v) { return static_cast<void*>(v.data()); }, values);
}

void TypedArray::resize_rows(std::uint64_t rows) {
  if (shape.empty()) throw std::logic_error("resize_rows of an array without a shape");
  shape[0] = rows;
  const std::size_t count = static_cast<std::size_t>(rows) * row_size();
  std::visit([count](auto& v) { v.resize(count); }, values);
}

TypedArray TypedArray::row_range(std::uint64_t first, std::uint64_t count) const {
  if (shape.empty() || first + count > shape[0]) throw std::out_of_range("row_range past the array's rows");
  TypedArray part;
  part.shape = shape;
  part.shape[0] = count;
  const std::size_t begin = static_cast<std::size_t>(first) * row_size(), end = begin + static_cast<std::size_t>(count) * row_size();
  std::visit([&](const auto& v) { part.values = std::decay_t<decltype(v)>(v.begin() + begin, v.begin() + end); }, values);
  return part;
}

void TypedArray::check_dtype(DType wanted) const {
  if (dtype() != wanted) {
    throw std::logic_error(std::string("array of ") + dtype_name(dtype()) + " read as " + dtype_name(wanted));
  }
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace pixab
