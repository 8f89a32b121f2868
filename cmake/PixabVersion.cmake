# Generates pixab_version.cpp at build time (not only at configure time), so that `pixab --version` and the results
# files' provenance always carry the current `git describe`, with -dirty for uncommitted changes.
set(PIXAB_VERSION_CPP "${CMAKE_BINARY_DIR}/generated/pixab_version.cpp")
add_custom_target(pixab_version
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR}
          -DOUTPUT=${PIXAB_VERSION_CPP}
          -DPROJECT_VERSION=${PROJECT_VERSION}
          -DGIT_EXECUTABLE=${GIT_EXECUTABLE}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${PIXAB_VERSION_CPP}
  COMMENT "Recording git describe"
  VERBATIM)
