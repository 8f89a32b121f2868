// Entry point of the `pixab` executable.
#include <malloc.h>

#include "pipeline/commands.hpp"

int main(int argc, char** argv) {
  // glibc hands large freed blocks back to the kernel, so every chunk of masked inputs (megabytes each) would
  // be faulted in again page by page; keeping them costs memory up to the peak only (docs/performance.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return pixab::main_cli(argc, argv);
}
