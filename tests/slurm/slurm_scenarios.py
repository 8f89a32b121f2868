#!/usr/bin/python3
"""Slurm.* scenarios: slurm/pixab.sbatch and slurm/reproduce-paper.sh on the one-node test cluster that
tests/slurm/slurm_cluster.sh started, on the demo model and the MPI tests' demo images.

Usage: slurm_scenarios.py SCENARIO --cluster DIR --pixab EXE --model PT --data DIR --work DIR
Scenarios: same-as-mpirun (test 1), signal-requeue (test 2), no-progress (test 3), reproduce-paper (test 4).
Exit 0 when every check holds, 1 otherwise, 77 (skipped) when the cluster could not be started here.
Run with /usr/bin/python3 (Debian's python3-h5py).
"""

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mpi"))
import compare_results  # noqa: E402
from mpi_scenarios import FAILURES, check, wait_for  # noqa: E402  (the same checks as the MPI scenarios)

PROJECT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SBATCH_SCRIPT = os.path.join(PROJECT, "slurm", "pixab.sbatch")
SKIP = 77

# The demo job the scenarios run: 24 images (200 for the signals) in chunks of 2, so that a signal finds it mid-run. The node has the
# machine's CPUs (2 here) and two stand-in GPUs: two ranks of one CPU and one GPU each.
RUN_OPTIONS = ["--progress_interval", "1"]
SLURM_SHAPE = ["--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1", "--gpus-per-task=1"]


class Cluster:
    """The test cluster's client side: its environment, submitting and watching jobs."""

    def __init__(self, args):
        self.args = args
        skip = os.path.join(args.cluster, "skip")
        if os.path.exists(skip):
            print(f"skipped: {open(skip).read().strip()}")
            sys.exit(SKIP)
        self.env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                        PIXAB=args.pixab)
        for line in open(os.path.join(args.cluster, "client.env")):  # export NAME=VALUE, shell-quoted
            name, value = shlex.split(line.removeprefix("export "))[0].split("=", 1)
            self.env[name] = value
        shutil.rmtree(args.work, ignore_errors=True)
        os.makedirs(args.work)

    def path(self, name):
        return os.path.join(self.args.work, name)

    def run(self, command, **kwargs):
        return subprocess.run(command, env=kwargs.pop("env", self.env), cwd=self.args.work, capture_output=True,
                              text=True, **kwargs)

    def submit(self, name, config, *run_args, sbatch_options=(), env=None):
        """sbatch slurm/pixab.sbatch CONFIG RUN_ARGS from the work folder; the job id."""
        done = self.run(["sbatch", "--parsable", f"--job-name={name}", *SLURM_SHAPE, *sbatch_options,
                         SBATCH_SCRIPT, config, *run_args], env=dict(self.env, **(env or {})))
        if not check(done.returncode == 0, f"sbatch failed: {done.stderr}"):
            sys.exit(1)
        return done.stdout.strip().split(";")[0]

    def job(self, job_id):
        """scontrol's fields of the job (JobState, Restarts, ExitCode, ...)."""
        done = self.run(["scontrol", "show", "job", "-o", job_id])
        return dict(re.findall(r"(\w+)=(\S*)", done.stdout))

    def wait_job(self, job_id, timeout, release_requeued=True, while_running=None):
        """Waits for the job to end (its final state). Slurm keeps a requeued job pending for two minutes before
        it is eligible again, time for the earlier start's processes to end; the test makes it eligible as soon
        as they have ended (its slurmstepd processes are gone), as an administrator can, so that it does not wait
        for nothing."""
        released = set()

        def earlier_start_gone():
            return subprocess.run(["pgrep", "-f", rf"^slurmstepd: \[{job_id}\."], capture_output=True).returncode != 0

        def ended():
            fields = self.job(job_id)
            state = fields.get("JobState", "")
            restarts = fields.get("Restarts", "0")
            if (release_requeued and state == "PENDING" and restarts != "0" and restarts not in released
                    and earlier_start_gone()):
                self.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"])
                released.add(restarts)
            if while_running and state == "RUNNING":
                while_running(fields)
            return state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")

        if not wait_for(ended, timeout, poll=0.5):
            self.run(["scancel", job_id])
            check(False, f"job {job_id} did not end within {timeout} s: {self.job(job_id)}")
        return self.job(job_id)

    def output(self, name, job_id):
        path = self.path(f"{name}-{job_id}.out")
        return open(path).read() if os.path.exists(path) else ""

    def demo_args(self, out, limit=24, steps=10, chunk=2):
        return ["--model", self.args.model, "--dataset.root", self.args.data, "--out", out, "--limit", str(limit),
                "--steps", str(steps), "--chunk_size", str(chunk), *RUN_OPTIONS]

    def reference(self):
        """The same job under a plain `mpirun -n 2`: the file every Slurm run must equal."""
        out = self.path("mpirun.h5")
        if not os.path.exists(out):
            done = self.run(["mpirun", "-n", "2", "--oversubscribe", self.args.pixab, "run", "--config",
                             os.path.join(PROJECT, "configs", "demo.toml"), *self.demo_args(out)], timeout=600)
            if not check(done.returncode == 0, f"the mpirun reference failed: {done.stdout}{done.stderr}"):
                sys.exit(1)
        return out


def attempts(out):
    with h5py.File(out, "r") as f:
        return f.attrs["attempts"].splitlines()


def scenario_same_as_mpirun(cluster):
    """Test 1: `sbatch --wait slurm/pixab.sbatch` writes the file a plain `mpirun -n 2` writes."""
    out = cluster.path("sbatch.h5")
    config = os.path.join(PROJECT, "configs", "demo.toml")
    done = cluster.run(["sbatch", "--wait", "--parsable", "--job-name=same", *SLURM_SHAPE, SBATCH_SCRIPT, config,
                        *cluster.demo_args(out)], timeout=600)
    job_id = done.stdout.strip().split(";")[0]
    text = cluster.output("same", job_id)
    if not check(done.returncode == 0, f"sbatch --wait exited {done.returncode}: {done.stderr}\n{text}"):
        return
    fields = cluster.job(job_id)
    check(fields.get("JobState") == "COMPLETED" and fields.get("ExitCode") == "0:0",
          f"job {job_id} ended {fields.get('JobState')} {fields.get('ExitCode')}")
    check("srun --mpi=pmix" in text and "2 rank(s)" in text, f"the job did not launch 2 ranks with srun:\n{text}")
    check(compare_results.main_compare(cluster.reference(), out) == 0, f"{out} differs from the mpirun run")
    lines = attempts(out)
    check(len(lines) == 1 and f"slurm_job={job_id} " in lines[0] and "slurm_restart=0" in lines[0]
          and "ranks=2" in lines[0], f"attempts should name the Slurm job: {lines}")
    logs = sorted(glob.glob(cluster.path(f"logs/same-{job_id}/rank-*.log")))
    check(len(logs) == 2, f"expected a log per rank in logs/same-{job_id}/: {logs}")


def scenario_signal_requeue(cluster):
    """Test 2: signalled mid-run, first by `scancel --signal=USR1 --batch`, then by the job's own --signal timer,
    the job checkpoints, exits 3, requeues itself and resumes, and ends with the file of an uninterrupted run;
    every start is in `attempts` with the job id and its restart count."""
    out = cluster.path("signalled.h5")
    config = os.path.join(PROJECT, "configs", "demo.toml")
    # slurmctld looks at time limits every 30 s and warns at the first look within warn time + 30 s of the limit:
    # with --time=3 and @120, 30 to 60 s into every start, so each start commits chunks (progress) before it. The
    # work, 200 images at the demo's 100 deletion/insertion steps (about 150 s here), outlasts the second start
    # even on a machine twice as fast, so that the timer stops it; up to 10 requeues let a slow machine finish.
    job_id = cluster.submit("signalled", config, *cluster.demo_args(out, limit=200, steps=100),
                            sbatch_options=["--time=3", "--signal=B:USR1@120"], env={"PIXAB_MAX_REQUEUES": "10"})
    signalled = []

    def signal_once_a_chunk_is_committed(fields):
        if not signalled and fields.get("Restarts") == "0" and glob.glob(out + ".parts/chunk-*.h5"):
            cluster.run(["scancel", "--signal=USR1", "--batch", job_id])
            signalled.append(time.monotonic())

    fields = cluster.wait_job(job_id, 900, while_running=signal_once_a_chunk_is_committed)
    text = cluster.output("signalled", job_id)
    if not check(fields.get("JobState") == "COMPLETED", f"job {job_id} ended {fields}:\n{text}"):
        return
    check(signalled, "the test never signalled the job")
    check(text.count("SIGUSR1 received") >= 2, f"expected both signals to reach the batch shell:\n{text}")
    check(text.count("pixab run exited 3") >= 2 and text.count("stopped with progress: requeueing") >= 2,
          f"expected two checkpoints (exit 3) each followed by a requeue:\n{text}")
    restarts = int(fields.get("Restarts", "0"))
    check(restarts >= 2, f"expected at least two requeues, Slurm counts {restarts}")
    reference = cluster.path("signalled-reference.h5")
    done = cluster.run(["mpirun", "-n", "2", "--oversubscribe", cluster.args.pixab, "run", "--config", config,
                        *cluster.demo_args(reference, limit=200, steps=100)], timeout=900)
    check(done.returncode == 0, f"the reference run failed: {done.stdout}{done.stderr}")
    check(compare_results.main_compare(reference, out) == 0, f"{out} differs from the uninterrupted run")
    lines = attempts(out)
    check(len(lines) == restarts + 1 and all(f"slurm_job={job_id} " in line for line in lines)
          and all(f"slurm_restart={r} " in lines[r] for r in range(len(lines)))
          and " start pending_chunks=" in lines[0] and all(" resume pending_chunks=" in line for line in lines[1:]),
          f"attempts should show every start of job {job_id}: {lines}")


def scenario_no_progress(cluster):
    """Test 3: a run that cannot start (a missing model) fails once with exit 1 and is not requeued; a run stopped
    before it committed anything (one chunk of 200 images, a minute of work, signalled as soon as it computes) ends
    with exit 3 and is not requeued either: it would come back for ever."""
    out = cluster.path("no-model.h5")
    config = os.path.join(PROJECT, "configs", "demo.toml")
    job_id = cluster.submit("no-model", config, "--model", cluster.path("missing.pt"), "--dataset.root",
                            cluster.args.data, "--out", out)
    fields = cluster.wait_job(job_id, 300)
    text = cluster.output("no-model", job_id)
    check(fields.get("JobState") == "FAILED" and fields.get("ExitCode") == "1:0",
          f"job {job_id} should have FAILED with exit 1: {fields}\n{text}")
    check(fields.get("Restarts") == "0" and "requeueing" not in text, f"job {job_id} was requeued:\n{text}")
    check("pixab run exited 1" in text and "missing.pt" in text, f"the job output should say why:\n{text}")

    out = cluster.path("no-progress.h5")
    job_id = cluster.submit("no-progress", config, *cluster.demo_args(out, limit=200, chunk=200))
    signalled = []

    def signal_once_computing(fields):
        if not signalled and "to compute" in cluster.output("no-progress", job_id):
            cluster.run(["scancel", "--signal=USR1", "--batch", job_id])
            signalled.append(True)

    fields = cluster.wait_job(job_id, 300, while_running=signal_once_computing)
    text = cluster.output("no-progress", job_id)
    check(fields.get("JobState") == "FAILED" and fields.get("ExitCode") == "3:0" and fields.get("Restarts") == "0",
          f"job {job_id} should have FAILED with exit 3, not requeued: {fields}\n{text}")
    check("stopped without committing a chunk since the last start: not requeued" in text,
          f"the job output should say why it was not requeued:\n{text}")


def scenario_reproduce_paper(cluster):
    """Test 4: slurm/reproduce-paper.sh --demo submits the experiments and a report job that runs after them,
    prints the paper's tables and writes them beside the results."""
    results = cluster.path("paper")
    env = dict(cluster.env, PIXAB_RESULTS=results, PIXAB_DEMO_MODEL=cluster.args.model,
               PIXAB_DEMO_DATA=cluster.args.data,
               PIXAB_SBATCH_ARGS="--ntasks-per-node=1 --cpus-per-task=1 --gpus-per-task=1",
               PIXAB_RUN_ARGS="--limit 6 --steps 10 --adversarial.max_iters 20 --adversarial.count 4")
    done = cluster.run([os.path.join(PROJECT, "slurm", "reproduce-paper.sh"), "--demo"], env=env, timeout=120)
    if not check(done.returncode == 0, f"reproduce-paper.sh exited {done.returncode}: {done.stdout}{done.stderr}"):
        return
    print(done.stdout)
    report_id = re.search(r"report job (\d+)", done.stdout)
    run_ids = re.findall(r"submitted (\S+) as job (\d+)", done.stdout)
    if not check(report_id and len(run_ids) >= 6, f"expected 6 run jobs and a report job:\n{done.stdout}"):
        return
    report_id = report_id.group(1)
    dependency = cluster.job(report_id).get("Dependency", "")
    check(all(job_id in dependency for _, job_id in run_ids) and "afterok" in dependency,
          f"the report job should wait for every run (afterok): {dependency}")
    fields = cluster.wait_job(report_id, 1500)
    for name, job_id in run_ids:
        run = cluster.job(job_id)
        # scontrol's times are ISO 8601 (2026-12-02T17:00:48), ordered as text.
        check(run.get("JobState") == "COMPLETED" and run.get("EndTime", "~") <= fields.get("StartTime", ""),
              f"{name} (job {job_id}) ended {run.get('JobState')} at {run.get('EndTime')}, the report started at "
              f"{fields.get('StartTime')}:\n{cluster.output('pixab-' + name, job_id)[-3000:]}")
        if run.get("JobState") != "COMPLETED":
            cluster.run(["scancel", job_id])
    text = open(os.path.join(results, "paper-tables.md")).read() if os.path.exists(
        os.path.join(results, "paper-tables.md")) else ""
    output = cluster.output("pixab-report", report_id)
    check(fields.get("JobState") == "COMPLETED", f"the report job ended {fields}:\n{output}")
    for table in ("Table 1", "Table 2", "Table 3", "Table 6", "Table 7"):
        check(table in text and table in output, f"{table} is missing from the report:\n{output}")


SCENARIOS = {
    "same-as-mpirun": scenario_same_as_mpirun,
    "signal-requeue": scenario_signal_requeue,
    "no-progress": scenario_no_progress,
    "reproduce-paper": scenario_reproduce_paper,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    for option in ("--cluster", "--pixab", "--model", "--data", "--work"):
        parser.add_argument(option, required=True)
    args = parser.parse_args()
    for name in ("cluster", "pixab", "model", "data", "work"):  # jobs run in the work folder
        setattr(args, name, os.path.abspath(getattr(args, name)))
    SCENARIOS[args.scenario](Cluster(args))
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
