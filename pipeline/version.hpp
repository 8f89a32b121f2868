// Version strings: the project version and `git describe` of the build (generated at build time).
#pragma once

#include <string>

namespace pixab {

extern const char* const kVersion;
extern const char* const kGitDescribe;

// "pixab <version> (<git describe>)" plus the versions of LibTorch, HDF5, OpenCV and MPI, one per line.
std::string version_report();

// Library versions for provenance attributes: {"libtorch", ...} -> version string.
std::string libtorch_version();
std::string hdf5_version();
std::string opencv_version();
std::string mpi_version();

}  // namespace pixab
