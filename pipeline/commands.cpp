// Subcommands of `pixab`, wired to the layers below; every error is turned into a message and an exit code here.
#include "pipeline/commands.hpp"

#include <CLI/CLI.hpp>
#include <mpi.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "io/error.hpp"
#include "io/fashion_mnist.hpp"
#include "pipeline/cli_config.hpp"
#include "pipeline/logging.hpp"
#include "pipeline/report.hpp"
#include "pipeline/run.hpp"
#include "pipeline/version.hpp"
#include "workers/demo/demo_data.hpp"
#include "workers/demo/demo_model.hpp"

namespace pixab {

namespace {

// MPI is started only by the subcommands that run jobs, so that --help, report and the demo builders work where
// no MPI launcher is set up.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  }
  ~MpiSession() { MPI_Finalize(); }
  int rank() const { return rank_; }

 private:
  int rank_ = 0;
};

}  // namespace

int main_cli(int argc, char** argv) {
  CLI::App app{"pixab: class activation maps and their evaluation metrics at dataset scale"};
  app.name("pixab");
  app.set_version_flag("--version", [] { return version_report(); });
  app.require_subcommand(1);

  RunConfig run_config;
  CLI::App* run = app.add_subcommand("run", "explain every item of a dataset and write one HDF5 results file");
  add_run_options(app, *run, run_config);

  std::string report_file;
  CLI::App* report = app.add_subcommand("report", "print the summary tables of a results file");
  report->add_option("file", report_file, "results file (HDF5)")->required()->check(CLI::ExistingFile);

  std::string model_out;
  DemoModelOptions model_options;
  CLI::App* demo_model = app.add_subcommand("demo-model", "train the embedded demo model on Fashion-MNIST");
  demo_model->add_option("--out", model_out, "model file to write (TorchScript)")->required();
  demo_model->add_option("--epochs", model_options.epochs, "training epochs (0: default schedule)");
  demo_model->add_option("--train_items", model_options.train_items, "training items (0: all 60000)");
  demo_model->add_option("--test_items", model_options.test_items, "test items for the accuracy (0: all 10000)");
  demo_model->add_option("--threads", model_options.threads, "CPU threads (0: all cores)");
  demo_model->add_option("--seed", model_options.seed, "training seed")->capture_default_str();
  demo_model->add_option("--fashion_mnist", model_options.fashion_mnist_dir, "Fashion-MNIST folder")
      ->default_str(kFashionMnistDir);

  std::string data_out;
  DemoDataOptions data_options;
  CLI::App* demo_data = app.add_subcommand("demo-data", "write the demo dataset (VOC layout) from Fashion-MNIST");
  demo_data->add_option("--out", data_out, "dataset folder to write")->required();
  demo_data->add_option("--images", data_options.images, "number of images")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo_data->add_option("--seed", data_options.seed, "seed")->capture_default_str();
  demo_data->add_option("--fashion_mnist", data_options.fashion_mnist_dir, "Fashion-MNIST folder")
      ->default_str(kFashionMnistDir);

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
              << (at == std::string::npos ? what : "unknown config key '" + what.substr(at + marker.size()) + "'")
              << "\nRun 'pixab run --help' for the keys.\n";
    return kExitConfig;
  } catch (const CLI::ParseError& e) {
    std::cerr << "pixab: " << e.what() << "\nRun 'pixab --help' (or 'pixab SUBCOMMAND --help') for usage.\n";
    return kExitConfig;
  }

  try {
    if (run->parsed()) {
      MpiSession mpi(&argc, &argv);
      setup_logging(mpi.rank(), run_config.verbose);
      try {
        return run_job(run_config, effective_config_toml(*run));
      } catch (const ConfigError& e) {
        spdlog::error("{}", e.what());
        return kExitConfig;
      } catch (const ModelError& e) {
        spdlog::error("{}", e.what());
        return kExitConfig;
      }
    }
    setup_logging(0, false);
    if (report->parsed()) {
      print_report(report_file, std::cout);
    } else if (demo_model->parsed()) {
      const DemoModelReport r = build_demo_model(model_out, model_options);
      spdlog::info("demo model written to {}: test accuracy {:.2f}% after {} epochs ({:.0f} s)", model_out,
                   100.0 * r.test_accuracy, r.epochs, r.seconds);
    } else if (demo_data->parsed()) {
      const int objects = write_demo_data(data_out, data_options);
      spdlog::info("demo dataset written to {}: {} images, {} objects", data_out, data_options.images, objects);
    }
    return kExitOk;
  } catch (const ConfigError& e) {
    std::cerr << "pixab: " << e.what() << "\n";
    return kExitConfig;
  } catch (const Error& e) {
    std::cerr << "pixab: " << e.what() << "\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "pixab: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace pixab
