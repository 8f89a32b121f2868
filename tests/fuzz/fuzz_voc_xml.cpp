// libFuzzer target: any bytes as a VOC annotation XML, through the parser of the `voc` and `imagenet`
// datasets.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/error.hpp"
#include "io/voc_annotation.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pixab;
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  try {
    const VocAnnotation annotation = parse_voc_annotation(xml, "fuzz.xml");
    fuzz::require(annotation.width >= 0 && annotation.height >= 0 && annotation.depth >= 0,
                  "image sizes are non-negative");
    for (const VocObject& object : annotation.objects) {
      fuzz::require(!object.name.empty(), "every object has a class name");
      fuzz::require_usable_box(object.box);
    }
  } catch (const InputError&) {
    // The documented outcome for a bad annotation: the item becomes bad_annotation, the run goes on.
  }
  return 0;
}
