// Versions of pixab and of the libraries it was built with, for --version and the results' provenance.
#include "pipeline/version.hpp"

#include <H5public.h>
#include <mpi.h>
#include <torch/version.h>
#include <opencv2/core/version.hpp>

#include <sstream>

namespace pixab {

std::string libtorch_version() { return TORCH_VERSION; }

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string opencv_version() { return CV_VERSION; }

std::string mpi_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);  // one of the few MPI calls allowed before MPI_Init
  std::string version(text, static_cast<std::size_t>(length));
  return version.substr(0, version.find_first_of(",\n"));
}

std::string version_report() {
  std::ostringstream out;
  out << "pixab " << kVersion << " (" << kGitDescribe << ")\n"
      << "  LibTorch " << libtorch_version() << "\n"
      << "  HDF5     " << hdf5_version() << " (parallel)\n"
      << "  OpenCV   " << opencv_version() << "\n"
      << "  MPI      " << mpi_version() << "\n";
  return out.str();
}

}  // namespace pixab
