# Warnings (and optional sanitizers) for the project's own targets only, through an interface target, so that the
# dependencies' headers and global flags stay untouched.
add_library(pixab_warnings INTERFACE)
target_compile_options(pixab_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(PIXAB_SANITIZE)
  target_compile_options(pixab_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(pixab_warnings INTERFACE -fsanitize=address,undefined)
endif()
