// libFuzzer target: any bytes as a COCO instances JSON file, through the parser of the `coco` dataset, with
// and without crowd boxes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/box.hpp"
#include "io/coco_annotations.hpp"
#include "io/error.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pixab;
  const std::string_view json_text(reinterpret_cast<const char*>(data), size);
  for (const bool include_crowd : {true, false}) {
    try {
      const CocoAnnotations parsed = parse_coco_annotations(json_text, "fuzz.json", include_crowd);
      for (const CocoImage& image : parsed.images) {
        for (const AnnotatedObject& object : image.objects) {
          fuzz::require(std::find(parsed.categories.begin(), parsed.categories.end(), object.class_name) !=
                            parsed.categories.end(),
                        "every box names a listed category");
          fuzz::require_usable_box(object.box);
          fuzz::require(!box_is_empty(object.box), "zero-area boxes are dropped");
        }
      }
    } catch (const ConfigError&) {
      // The documented outcome for an unusable annotation file: a configuration error before any work.
    }
  }
  return 0;
}
