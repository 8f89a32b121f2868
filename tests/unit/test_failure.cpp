// The exit-code mapping main_cli and the run command use: user errors exit 1, bugs exit 4 with their message
// (never as a user error), and MPI's thread support is checked against what pixab needs.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "io/error.hpp"
#include "io/item_status.hpp"
#include "pipeline/failure.hpp"
#include "pipeline/mpi_util.hpp"

namespace pixab {
namespace {

template <typename Exception>
Failure failure_of(const Exception& error, FailureContext context) {
  return classify_failure(std::make_exception_ptr(error), context);
}

constexpr FailureContext kContexts[] = {FailureContext::kOneShot, FailureContext::kJob};

TEST(Failure, BugsAreInternalErrorsWithTheirMessageInEveryCommand) {
  for (const FailureContext context : kContexts) {
    for (const Failure& failure : {failure_of(std::logic_error("chunk 3 claimed twice"), context),
                                   failure_of(std::out_of_range("chunk 3 claimed twice"), context),
                                   failure_of(std::runtime_error("chunk 3 claimed twice"), context)}) {
      EXPECT_EQ(failure.code, kExitInternal);
      EXPECT_EQ(failure.message, "internal error: chunk 3 claimed twice");
      EXPECT_FALSE(failure.every_rank_knows);
    }
    const Failure thrown_int = classify_failure(std::make_exception_ptr(42), context);
    EXPECT_EQ(thrown_int.code, kExitInternal);
    EXPECT_NE(thrown_int.message.find("internal error"), std::string::npos);
  }
}

TEST(Failure, ConfigAndModelErrorsAreUsageErrors) {
  for (const FailureContext context : kContexts) {
    const Failure config = failure_of(ConfigError("batch_size must be positive"), context);
    EXPECT_EQ(config.code, kExitConfig);
    EXPECT_EQ(config.message, "batch_size must be positive");
    EXPECT_FALSE(config.every_rank_knows);
    EXPECT_EQ(failure_of(ModelError("model m.pt: file not found"), context).code, kExitConfig);
  }
}

TEST(Failure, ARefusalEveryRankKnowsNeedsNoAbort) {
  const Failure on_rank0 = failure_of(JobRefused("output x.h5 is locked"), FailureContext::kJob);
  EXPECT_EQ(on_rank0.code, kExitConfig);
  EXPECT_EQ(on_rank0.message, "output x.h5 is locked");
  EXPECT_TRUE(on_rank0.every_rank_knows);
  const Failure elsewhere = failure_of(JobRefused(""), FailureContext::kJob);
  EXPECT_TRUE(elsewhere.message.empty());
  EXPECT_TRUE(elsewhere.every_rank_knows);
}

TEST(Failure, FileErrorsAreTheInputOfOneShotCommandsButStopAJob) {
  const Failure report = failure_of(IoError("cannot read results file 'a.h5'"), FailureContext::kOneShot);
  EXPECT_EQ(report.code, kExitConfig);
  EXPECT_EQ(report.message, "cannot read results file 'a.h5'");
  const Failure job = failure_of(IoError("cannot write chunk-0000003.h5"), FailureContext::kJob);
  EXPECT_EQ(job.code, kExitInternal);
  EXPECT_EQ(job.message, "run failed: cannot write chunk-0000003.h5");
  EXPECT_EQ(failure_of(ItemError(ItemStatus::kMissing, "file not found: a.png"), FailureContext::kJob).code,
            kExitInternal);
}

TEST(MpiThreadLevel, FunneledOrMoreIsEnoughLessIsAClearConfigError) {
  EXPECT_EQ(mpi::kRequiredThreadLevel, MPI_THREAD_FUNNELED);
  for (const int level : {MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED, MPI_THREAD_MULTIPLE})
    EXPECT_NO_THROW(mpi::require_thread_level(level));
  try {
    mpi::require_thread_level(MPI_THREAD_SINGLE);
    ADD_FAILURE() << "MPI_THREAD_SINGLE was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("provides MPI_THREAD_SINGLE, pixab needs MPI_THREAD_FUNNELED"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pixab
