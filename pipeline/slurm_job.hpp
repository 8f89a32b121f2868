// The Slurm job this process belongs to, from the environment Slurm gives every task (empty outside Slurm):
// recorded in the run's attempts, and used by the output lock to let a requeued job take over its own lock.
#pragma once

#include <string>

namespace pixab {

struct SlurmJob {
  std::string job_id;         // SLURM_JOB_ID (an array task has its own)
  std::string cluster;        // SLURM_CLUSTER_NAME: job ids are unique within one cluster only
  std::string array_job_id;   // SLURM_ARRAY_JOB_ID, for a task of a job array
  std::string array_task_id;  // SLURM_ARRAY_TASK_ID
  std::string node_list;      // SLURM_JOB_NODELIST, compressed as Slurm writes it (node[01-04])
  int restart_count = 0;      // SLURM_RESTART_COUNT: how often the job was requeued (0 on its first start)

  bool present() const { return !job_id.empty(); }
  // "slurm_job=123 slurm_array=120_3 slurm_restart=1 slurm_nodes=node[01-02]", or "slurm_job=-" outside
  // Slurm.
  std::string attempt_fields() const;
};

SlurmJob slurm_job_from_environment();

}  // namespace pixab
