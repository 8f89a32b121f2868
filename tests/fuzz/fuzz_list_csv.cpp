// libFuzzer target: any bytes as a list dataset's CSV file, through the parser of the `list` dataset.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "io/box.hpp"
#include "io/error.hpp"
#include "io/list_csv.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pixab;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const ListRow& row : parse_list_csv(text, "fuzz.csv")) {
      fuzz::require(!row.path.empty() && !row.id.empty(), "every row names an image");
      if (!row.problem.empty()) {
        fuzz::require(row.annotation.label.empty() && row.annotation.objects.empty(),
                      "nothing of a bad row is used");
      }
      for (const AnnotatedObject& object : row.annotation.objects) {
        fuzz::require(!object.class_name.empty(), "every box names a class");
        fuzz::require_usable_box(object.box);
        fuzz::require(!box_is_empty(object.box), "zero-area boxes are dropped");
      }
    }
  } catch (const ConfigError&) {
    // The documented outcome for a row that names no image, or a repeated one: a configuration error.
  }
  return 0;
}
