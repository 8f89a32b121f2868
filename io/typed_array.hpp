// A typed n-dimensional array (float32, uint8, int32 or int64; row-major, native byte order): what the workers
// produce per item, what chunk files, the merge and the results-file reader carry, so that no element type is
// dropped or converted on the way to the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace pixab {

// The element types of results arrays, in the order of TypedArray's variant.
enum class DType : std::uint8_t { kFloat32 = 0, kUInt8 = 1, kInt32 = 2, kInt64 = 3 };

// "float32", "uint8", "int32", "int64": the names the results schema and the errors use.
const char* dtype_name(DType dtype);

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) {
    return DType::kFloat32;
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    return DType::kUInt8;
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return DType::kInt32;
  } else {
    static_assert(std::is_same_v<T, std::int64_t>, "results arrays hold float32, uint8, int32 or int64");
    return DType::kInt64;
  }
}

struct TypedArray {
  using Values =
      std::variant<std::vector<float>, std::vector<std::uint8_t>, std::vector<std::int32_t>, std::vector<std::int64_t>>;

  std::vector<std::uint64_t> shape;  // shape[0] is the row (item) count of a per-item array
  Values values;                     // prod(shape) elements

  TypedArray() = default;
  TypedArray(std::vector<std::uint64_t> array_shape, std::initializer_list<float> floats)
      : shape(std::move(array_shape)), values(std::vector<float>(floats)) {}
  template <typename T>
  TypedArray(std::vector<std::uint64_t> array_shape, std::vector<T> elements)
      : shape(std::move(array_shape)), values(std::move(elements)) {}

  // `count` elements of `dtype`, all `fill` (converted to the type: NaN for float32 failed rows, 0 or -1 for
  // integers).
  static TypedArray filled(DType dtype, std::vector<std::uint64_t> shape, double fill);

  DType dtype() const { return static_cast<DType>(values.index()); }
  std::size_t element_count() const;  // the vector's length
  std::size_t element_bytes() const;
  std::size_t row_size() const;       // elements per row of the first dimension (1 for a 1-d array)
  const void* data() const;
  void* data();

  // The elements as T; std::logic_error naming both types when the array holds another type (a caller's bug).
  template <typename T>
  std::vector<T>& as() {
    check_dtype(dtype_of<T>());
    return std::get<std::vector<T>>(values);
  }
  template <typename T>
  const std::vector<T>& as() const {
    check_dtype(dtype_of<T>());
    return std::get<std::vector<T>>(values);
  }
  std::vector<float>& floats() { return as<float>(); }
  const std::vector<float>& floats() const { return as<float>(); }

  // shape[0] = rows, the elements resized to match (new rows hold T{}).
  void resize_rows(std::uint64_t rows);
  // Rows first .. first + count - 1 as an array of their own; std::out_of_range past the end.
  TypedArray row_range(std::uint64_t first, std::uint64_t count) const;

 private:
  void check_dtype(DType wanted) const;
};

// "[3, 7, 7]"
std::string shape_text(const std::vector<std::uint64_t>& shape);

}  // namespace pixab
