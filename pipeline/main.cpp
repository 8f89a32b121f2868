// Entry point of the `pixab` executable.
#include "pipeline/commands.hpp"

int main(int argc, char** argv) { return pixab::main_cli(argc, argv); }
