// Subcommands of `pixab`, wired to the layers below; every error is turned into a message and an exit code
// here.
#include "pipeline/commands.hpp"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <vector>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "pipeline/cli_config.hpp"
#include "pipeline/command.hpp"
#include "pipeline/failure.hpp"
#include "pipeline/logging.hpp"
#include "pipeline/mpi_util.hpp"
#include "pipeline/report.hpp"
#include "pipeline/run.hpp"
#include "pipeline/version.hpp"
#include "workers/demo/demo_data.hpp"
#include "workers/demo/demo_model.hpp"

namespace pixab {

namespace {

// MPI is started only by the subcommands that run jobs, so that --help, report and the demo builders work
// where no MPI launcher is set up.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv) {
    MPI_Init_thread(argc, argv, mpi::kRequiredThreadLevel, &provided_);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiSession() { MPI_Finalize(); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  int provided_thread_level() const { return provided_; }

 private:
  int rank_ = 0, size_ = 1, provided_ = MPI_THREAD_SINGLE;
};

}  // namespace

Command add_run_command(CLI::App& app, int* argc, char*** argv) {
  auto config = std::make_shared<RunConfig>();
  CLI::App* run =
      app.add_subcommand("run", "explain every item of a dataset and write one HDF5 results file");
  add_run_options(app, *run, *config);
  return {run, [config, run, argc, argv] {
            MpiSession mpi(argc, argv);
            try {
              setup_logging(mpi.rank(), config->verbose, config->log_dir);
              mpi::require_thread_level(mpi.provided_thread_level());
              resolve_default_lists(*run, *config);
              return run_job(*config, effective_config_toml(*run));
            } catch (...) {
              const Failure failure = classify_failure(std::current_exception(), FailureContext::kJob);
              if (!failure.message.empty()) {
                spdlog::log(failure.code == kExitInternal ? spdlog::level::critical : spdlog::level::err,
                            "{}", failure.message);
              }
              // In a job of several ranks a failure on one rank would leave the others waiting in a
              // collective: it ends the whole job. Refusals every rank agreed on return normally.
              if (mpi.size() > 1 && !failure.every_rank_knows) MPI_Abort(MPI_COMM_WORLD, failure.code);
              return static_cast<int>(failure.code);
            }
          }};
}

Command add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* report = app.add_subcommand(
      "report", "print the paper's tables (means, bootstrap intervals, best marked) from results files");
  report->add_option("files", options->files, "results files (HDF5), typically one per dataset")
      ->required()
      ->check(CLI::ExistingFile);
  report->add_option("--format", options->format, "md, csv (one row per cell) or json")
      ->check(CLI::IsMember({"md", "csv", "json"}))
      ->capture_default_str();
  report->add_option("--out", options->out, "write the report to this file instead of stdout");
  report->add_option("--bootstrap-samples", options->bootstrap.samples, "bootstrap resamples per cell")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  report->add_option("--seed", options->bootstrap.seed, "seed of the bootstrap")->capture_default_str();
  return {report, [options] {
            run_report(*options, std::cout);
            return static_cast<int>(kExitOk);
          }};
}

Command add_demo_model_command(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto options = std::make_shared<DemoModelOptions>();
  CLI::App* cmd = app.add_subcommand("demo-model", "train the embedded demo model on Fashion-MNIST");
  cmd->add_option("--out", *out, "model file to write (TorchScript)")->required();
  cmd->add_option("--epochs", options->epochs, "training epochs (0: default schedule)");
  cmd->add_option("--train_items", options->train_items, "training items (0: all 60000)");
  cmd->add_option("--test_items", options->test_items, "test items for the accuracy (0: all 10000)");
  cmd->add_option("--threads", options->threads, "CPU threads (0: every CPU this process may use)");
  cmd->add_option("--seed", options->seed, "training seed")->capture_default_str();
  cmd->add_option("--fashion_mnist", options->fashion_mnist_dir, "Fashion-MNIST folder")
      ->default_str(kFashionMnistDir);
  return {cmd, [out, options] {
            const DemoModelReport r = build_demo_model(*out, *options);
            spdlog::info("demo model written to {}: test accuracy {:.2f}% after {} epochs ({:.0f} s)", *out,
                         100.0 * r.test_accuracy, r.epochs, r.seconds);
            return static_cast<int>(kExitOk);
          }};
}

Command add_demo_data_command(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto options = std::make_shared<DemoDataOptions>();
  CLI::App* cmd = app.add_subcommand("demo-data", "write the demo dataset (VOC layout) from Fashion-MNIST");
  cmd->add_option("--out", *out, "dataset folder to write")->required();
  cmd->add_option("--images", options->images, "number of images")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "seed")->capture_default_str();
  cmd->add_option("--fashion_mnist", options->fashion_mnist_dir, "Fashion-MNIST folder")
      ->default_str(kFashionMnistDir);
  return {cmd, [out, options] {
            const int objects = write_demo_data(*out, *options);
            spdlog::info("demo dataset written to {}: {} images, {} objects", *out, options->images, objects);
            return static_cast<int>(kExitOk);
          }};
}

int main_cli(int argc, char** argv) {
  CLI::App app{"pixab: class activation maps and their evaluation metrics at dataset scale"};
  app.name("pixab");
  app.set_version_flag("--version", [] { return version_report(); });
  app.require_subcommand(1);

  const std::vector<Command> commands{add_run_command(app, &argc, &argv),
                                      add_report_command(app),
                                      add_demo_model_command(app),
                                      add_demo_data_command(app),
                                      add_explain_command(app),
                                      add_render_command(app),
                                      add_bench_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ConfigError& e) {
    // CLI11 says "INI was not able to parse run.<key>"; name the key as the user wrote it.
    const std::string what = e.what();
    const std::string marker = "parse run.";
    const auto at = what.find(marker);
    std::cerr << "pixab: "
              << (at == std::string::npos ? what
                                          : "unknown config key '" + what.substr(at + marker.size()) + "'")
              << "\nRun 'pixab run --help' for the keys.\n";
    return kExitConfig;
  } catch (const ConfigError& e) {  // from option callbacks that parse values ([pixab] keys, variants)
    std::cerr << "pixab: " << e.what() << "\n";
    return kExitConfig;
  } catch (const CLI::ParseError& e) {
    std::cerr << "pixab: " << e.what() << "\nRun 'pixab --help' (or 'pixab SUBCOMMAND --help') for usage.\n";
    return kExitConfig;
  } catch (...) {  // an option callback's bug: never a usage error
    const Failure failure = classify_failure(std::current_exception(), FailureContext::kOneShot);
    std::cerr << "pixab: " << failure.message << "\n";
    return failure.code;
  }

  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    if (command.app->get_name() != "run") setup_logging(0, false);  // run sets up logging with its MPI rank
    try {
      return command.action();
    } catch (...) {
      const Failure failure = classify_failure(std::current_exception(), FailureContext::kOneShot);
      std::cerr << "pixab: " << failure.message << "\n";
      return failure.code;
    }
  }
  return kExitConfig;  // unreachable: a subcommand is required
}

}  // namespace pixab
