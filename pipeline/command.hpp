// A subcommand of `pixab`: its CLI11 app (options registered) and the action to run when it was chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace pixab {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> action;  // returns the exit code; throws pixab::Error subclasses (mapped by main_cli)
};

// Each adds its subcommand to `app`; the options' storage lives in the action's closure.
Command add_run_command(CLI::App& app, int* argc, char*** argv);
Command add_report_command(CLI::App& app);
Command add_demo_model_command(CLI::App& app);
Command add_demo_data_command(CLI::App& app);
Command add_bench_command(CLI::App& app);    // pipeline/bench.cpp
Command add_explain_command(CLI::App& app);  // pipeline/figures.cpp
Command add_render_command(CLI::App& app);   // pipeline/figures.cpp

}  // namespace pixab
