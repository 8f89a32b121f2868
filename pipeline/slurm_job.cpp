// Reads the Slurm variables of the environment (see slurm_job.hpp).
#include "pipeline/slurm_job.hpp"

#include <cstdlib>
#include <string>

namespace pixab {

namespace {

std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

SlurmJob slurm_job_from_environment() {
  SlurmJob job;
  job.job_id = variable("SLURM_JOB_ID");
  job.cluster = variable("SLURM_CLUSTER_NAME");
  job.array_job_id = variable("SLURM_ARRAY_JOB_ID");
  job.array_task_id = variable("SLURM_ARRAY_TASK_ID");
  job.node_list = variable("SLURM_JOB_NODELIST");
  try {
    job.restart_count = std::stoi(variable("SLURM_RESTART_COUNT"));
  } catch (const std::exception&) {
    job.restart_count = 0;  // unset on a job's first start
  }
  return job;
}

std::string SlurmJob::attempt_fields() const {
  if (!present()) return "slurm_job=-";
  std::string text = "slurm_job=" + job_id;
  if (!array_job_id.empty()) text += " slurm_array=" + array_job_id + "_" + array_task_id;
  text += " slurm_restart=" + std::to_string(restart_count);
  if (!node_list.empty()) text += " slurm_nodes=" + node_list;
  return text;
}

}  // namespace pixab
