#!/usr/bin/python3
"""The distributed run's guarantees (pipeline.md G2-G11) as scenarios with real mpirun jobs on the demo.

Usage: mpi_scenarios.py SCENARIO --pixab BIN --model M --data D --work DIR [--ranks N] [--seed S]
Scenarios: kill-and-resume (G2, G7), signal (G6), refusals (G3, G4), lock (G8), bad-items (G5),
progress-and-provenance (G9, G10), memory (G11); dap2-kill-and-resume (G2, G7 for the dap2 task, whose AE2s span
chunks). Exit 0 when every check passes; each failure is printed. Run with /usr/bin/python3 (h5py, numpy).
"""

import argparse
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare_results  # noqa: E402  (the exact comparison of two results files)

# Small enough for 2 cores: 48 items in 12 chunks of 4, 10 RISE steps, one thread per rank.
ITEMS, CHUNK = 48, 4
FAILURES = []


class Profile:
    """What a scenario's jobs run: a config of configs/ and its options. `items` source items (--limit); the rows
    (and so the chunks) follow from them. `uses_data`: the config reads --data (dap2 makes its own canvases)."""

    def __init__(self, config, items, uses_data, options):
        self.config, self.items, self.uses_data, self.options = config, items, uses_data, options


DEMO = Profile("demo.toml", ITEMS, True, lambda steps: ["--steps", str(steps)])
# 24 AE2s of 2 to 4 patches: about 70 rows in about 18 chunks of 4, short attacks (40 steps), so that a run lasts a
# few seconds and is killed well before its end. Rows of one AE2 span chunks (and ranks). Larger patches and a
# confidence of 0.5 let some attacks succeed on the briefly trained demo model (tests/mpi/CMakeLists.txt).
DAP2 = Profile("dap2.toml", 24, False, lambda steps: [
    "--adversarial.max_iters", "40", "--adversarial.confidence", "0.5", "--adversarial.size_min", "0.3",
    "--adversarial.size_max", "0.35", "--adversarial.kmax", "4"])


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print(f"FAIL: {message}", file=sys.stderr)
    return condition


class Job:
    def __init__(self, args, profile=DEMO):
        self.args = args
        self.profile = profile
        # Nothing from an earlier invocation counts (the demo model may have been retrained since).
        shutil.rmtree(args.work, ignore_errors=True)
        os.makedirs(args.work)
        self.env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                        OMPI_MCA_rmaps_base_oversubscribe="1")

    def with_profile(self, profile):
        self.profile = profile
        return self

    def path(self, name):
        return os.path.join(self.args.work, name)

    def command(self, out, ranks, *extra, limit=None, data=None, model=None, steps=10):
        profile = self.profile
        dataset = ["--dataset.root", data or self.args.data] if profile.uses_data else []
        return (["mpirun", "-n", str(ranks), "--oversubscribe", self.args.pixab, "run",
                 "--config", os.path.join(PROJECT, "configs", profile.config), "--model", model or self.args.model]
                + dataset + ["--out", out, "--limit", str(limit or profile.items)] + profile.options(steps)
                + ["--threads", "1", "--chunk_size", str(CHUNK), "--progress_interval", "1"] + list(extra))

    def run(self, out, ranks, *extra, timeout=300, **options):
        started = time.monotonic()
        done = subprocess.run(self.command(out, ranks, *extra, **options), env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        return done.returncode, done.stderr + done.stdout, time.monotonic() - started

    def start(self, out, ranks, *extra, **options):
        log = open(out + ".log", "w")
        return subprocess.Popen(self.command(out, ranks, *extra, **options), env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True), out + ".log"

    def reference(self):
        """The uninterrupted run every interrupted one must equal (1 rank)."""
        out = self.path("reference.h5")
        if not os.path.exists(out):
            code, log, _ = self.run(out, 1)
            if not check(code == self.item_errors(out), f"reference run failed ({code}):\n{log}"):
                sys.exit(1)
        return out

    def item_errors(self, out):
        """The exit code of a run that wrote `out`: 2 when some rows failed (an adversarial task's attack_failed
        rows), else 0; None when there is no file."""
        if not os.path.exists(out):
            return None
        with h5py.File(out, "r") as f:
            return 2 if int(f.attrs["items_failed"]) > 0 else 0

    def chunks_total(self):
        """Chunks of the whole job: the reference's rows in chunks of CHUNK."""
        with h5py.File(self.reference(), "r") as f:
            return -(-int(f.attrs["items_total"]) // CHUNK)


def rank_pids(mpirun):
    """The pixab processes mpirun started (its children, or its children's children under an orted)."""
    found = subprocess.run(["pgrep", "-f", "pixab run", "-s", str(os.getpgid(mpirun.pid))], capture_output=True,
                           text=True).stdout.split()
    return sorted(int(pid) for pid in found if int(pid) != mpirun.pid)


def running(pid):
    """Whether the process runs (exists and is not a zombie awaiting its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def fresh(*paths):
    """Removes what an earlier run of the scenario left at these paths (an output, its lock, parts, logs)."""
    for path in paths:
        for found in glob.glob(path + "*"):
            shutil.rmtree(found) if os.path.isdir(found) else os.remove(found)


def chunk_files(out):
    return sorted(glob.glob(out + ".parts/chunk-*.h5"))


def wait_for(condition, timeout, poll=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return False


def same_as_reference(job, out):
    code = compare_results.main_compare(job.reference(), out)
    return check(code == 0, f"{out} differs from the uninterrupted run")


def resume_line(out):
    attempts = h5py.File(out, "r").attrs["attempts"].splitlines()
    return attempts


def scenario_kill_and_resume(job):
    """G2 and G7: kill -9 one rank at seeded moments; the job ends (no hang); --resume recomputes only the
    missing chunks and equals the uninterrupted run."""
    rng = random.Random(job.args.seed)
    total = job.chunks_total()
    for trial in range(2):
        out = job.path(f"killed-{trial}.h5")
        fresh(out)
        after_chunks = rng.randint(1, total // 3)  # well before the end, even on a fast machine
        extra_delay = rng.uniform(0, 0.2)
        mpirun, log = job.start(out, job.args.ranks)
        wait_for(lambda: len(chunk_files(out)) >= after_chunks, 120)
        time.sleep(extra_delay)
        pids = rank_pids(mpirun)
        if not check(len(pids) == job.args.ranks, f"expected {job.args.ranks} rank processes, found {pids}"):
            os.killpg(mpirun.pid, signal.SIGKILL)
            continue
        victim = rng.choice(pids)
        os.kill(victim, signal.SIGKILL)
        try:
            code = mpirun.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(mpirun.pid, signal.SIGKILL)
            check(False, "G7: the job did not end within 60 s after a rank was killed")
            continue
        check(code != 0, f"G7: a job with a killed rank exited {code}")
        committed = len(chunk_files(out))
        check(committed < total, f"G2: the killed job had already committed all {total} chunks")
        print(f"trial {trial}: killed pid {victim} after {after_chunks} chunk(s) + {extra_delay:.2f} s; "
              f"{committed} of {total} chunks committed")
        # Resumed at once, as a user does: mpirun may return while a surviving rank still shuts down holding the
        # lock, and the resume waits for it (bounded) instead of refusing.
        code, text, _ = job.run(out, job.args.ranks, "--resume")
        check(not any(running(pid) for pid in pids), f"G7: rank processes {pids} outlived the job and its resume")
        # Exit 2 only where rows failed (dap2's attack_failed rows, possibly all in chunks of the first attempt).
        if not check(code == 0 or (code == 2 and job.item_errors(out) == 2), f"G2: --resume exited {code}:\n{text}"):
            continue
        attempts = resume_line(out)
        pending = re.search(r"pending_chunks=(\d+)/", attempts[-1]) if len(attempts) == 2 else None
        # A surviving rank may commit its chunk in hand after mpirun returned: no more than these were missing.
        check(pending and 1 <= int(pending.group(1)) <= total - committed,
              f"G2: the resume should have computed only the missing chunks (at most {total - committed}): {attempts}")
        check(not os.path.exists(out + ".parts"), "the chunk files were not removed after the merge")
        same_as_reference(job, out)


def scenario_signal(job):
    """G6: SIGUSR1 to mpirun (forwarded to every rank) or SIGTERM to every rank (as Slurm does): exit 3 within
    30 s, the chunks so far kept; --resume completes the job."""
    for how in ("usr1-mpirun", "term-ranks"):
        out = job.path(f"signal-{how}.h5")
        fresh(out)
        mpirun, log = job.start(out, job.args.ranks)
        wait_for(lambda: len(chunk_files(out)) >= 1, 120)
        sent = time.monotonic()
        if how == "usr1-mpirun":
            mpirun.send_signal(signal.SIGUSR1)
        else:
            for pid in rank_pids(mpirun):
                os.kill(pid, signal.SIGTERM)
        try:
            code = mpirun.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(mpirun.pid, signal.SIGKILL)
            check(False, f"G6 ({how}): the job did not stop within 60 s")
            continue
        elapsed = time.monotonic() - sent
        text = open(log).read()
        check(code == 3, f"G6 ({how}): exit code {code}, expected 3:\n{text[-3000:]}")
        check(elapsed <= 30, f"G6 ({how}): stopping took {elapsed:.1f} s")
        check("--resume" in text, f"G6 ({how}): the log does not say how to resume")
        print(f"{how}: stopped with exit {code} in {elapsed:.1f} s, {len(chunk_files(out))} chunk(s) kept")
        code, text, _ = job.run(out, job.args.ranks, "--resume")
        if check(code == 0, f"G6 ({how}): --resume exited {code}:\n{text}"):
            same_as_reference(job, out)


def scenario_refusals(job):
    """G3 (resume refuses a changed config, model file or item list) and G4 (a finished job is left alone)."""
    out = job.path("refusals.h5")
    data = job.path("refusals-data")  # a copy whose item list the test changes
    fresh(out, data)
    shutil.copytree(job.args.data, data)
    mpirun, log = job.start(out, job.args.ranks, data=data)
    wait_for(lambda: len(chunk_files(out)) >= 1, 120)
    mpirun.send_signal(signal.SIGUSR1)
    check(mpirun.wait(timeout=60) == 3, "could not leave an unfinished run behind")

    other_model = job.path("other-model.pt")
    shutil.copy(job.args.model, other_model)
    with open(other_model, "ab") as f:
        f.write(b"\0")  # a zip archive with trailing bytes still loads: the same network, another file
    code, text, _ = job.run(out, 1, "--resume", data=data, steps=11)
    check(code == 1 and "the config changed since the first attempt" in text,
          f"G3: --resume with a changed config exited {code}: {text[-2000:]}")
    code, text, _ = job.run(out, 1, "--resume", data=data, model=other_model)
    check(code == 1 and "the model file changed since the first attempt" in text,
          f"G3: --resume with another model file exited {code}: {text[-2000:]}")
    item_list = os.path.join(data, "ImageSets", "Main", "test.txt")
    ids = open(item_list).read().split()
    with open(item_list, "w") as f:
        f.write("\n".join(ids[:3] + ids[4:]) + "\n")  # same config, a different item among the first ones
    code, text, _ = job.run(out, 1, "--resume", data=data)
    check(code == 1 and "the manifest (the item list) changed since the first attempt" in text,
          f"G3: --resume with a changed item list exited {code}: {text[-2000:]}")
    with open(item_list, "w") as f:
        f.write("\n".join(ids) + "\n")
    code, text, _ = job.run(out, 1, data=data)
    check(code == 1 and "--resume" in text, f"a plain run over an unfinished one should be refused: {code}")

    code, text, _ = job.run(out, job.args.ranks, "--resume", data=data)
    check(code == 0, f"the unchanged resume failed ({code}): {text[-2000:]}")
    before = open(out, "rb").read()
    mtime = os.stat(out).st_mtime_ns
    for extra in ([], ["--resume"]):
        code, text, _ = job.run(out, job.args.ranks, *extra, data=data)
        check(code == 0 and "nothing to do" in text and "progress:" not in text,
              f"G4: re-running a finished job {extra} did work or failed ({code}): {text[-2000:]}")
    check(open(out, "rb").read() == before and os.stat(out).st_mtime_ns == mtime,
          "G4: re-running a finished job changed the file")
    code, text, _ = job.run(out, 1, data=data, steps=11)
    check(code == 1 and "--overwrite" in text, f"a different config over a finished output should be refused: {code}")


def scenario_lock(job):
    """G8: a second run on the same output is refused while the first holds the lock; a stale lock (its process
    gone) is taken over."""
    out = job.path("locked.h5")
    fresh(out)
    first, log = job.start(out, job.args.ranks)
    check(wait_for(lambda: os.path.exists(out + ".lock"), 60), "the first run never took the lock")
    code, text, _ = job.run(out, 1)
    check(code == 1 and "is locked by" in text, f"G8: a second run on a locked output exited {code}: {text[-2000:]}")
    check(first.wait(timeout=300) == 0, "the first run failed")
    check(not os.path.exists(out + ".lock"), "the lock was not released")

    dead = subprocess.Popen(["true"])
    dead.wait()
    out2 = job.path("stale-lock.h5")
    fresh(out2)
    with open(out2 + ".lock", "w") as f:
        f.write(f"{os.uname().nodename} {dead.pid} 0\n")
    code, text, _ = job.run(out2, 1, limit=4)
    check(code == 0 and "taking it over" in text, f"G8: a stale lock was not taken over ({code}): {text[-2000:]}")


def scenario_bad_items(job):
    """G5 on the distributed path: a missing image and a broken one in the demo data; the job finishes with
    exit 2, each bad item with its status, every other item as in a clean run."""
    data = job.path("bad-data")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(job.args.data, data)
    images = sorted(glob.glob(os.path.join(data, "JPEGImages", "*")))
    os.remove(images[1])
    open(images[5], "wb").close()
    out = job.path("bad-items.h5")
    fresh(out)
    done = subprocess.run(job.command(out, job.args.ranks, limit=8, data=data), env=job.env, capture_output=True,
                          text=True, timeout=300)
    check(done.returncode == 2, f"G5: exit code {done.returncode}, expected 2:\n{done.stderr[-2000:]}")
    with h5py.File(out, "r") as f:
        status = f["items/status"][()]
        messages = f["items/message"].asstr()[()]
        check(list(status) == [0, 1, 0, 0, 0, 2, 0, 0], f"G5: statuses {list(status)}")
        check(all(m == "" for i, m in enumerate(messages) if status[i] == 0) and messages[1] and messages[5],
              f"G5: messages {list(messages)}")


def scenario_progress_and_provenance(job):
    """G9: rank 0's progress lines with rate and ETA; every rank's log lines carry its rank. G10: provenance."""
    out = job.path("provenance.h5")
    logs = job.path("provenance-logs")
    fresh(out, logs)
    code, text, _ = job.run(out, job.args.ranks, "--log_dir", logs)
    check(code == 0, f"run failed ({code})")
    check(re.search(rf"\[rank 0\] \[info\] progress: \d+/{ITEMS} items \([0-9.]+%\), [0-9.]+ items/s, elapsed \d+ s, "
                    r"ETA \d+ s", text), "G9: no progress line with rate and ETA from rank 0")
    for rank in range(job.args.ranks):
        lines = open(os.path.join(logs, f"rank-{rank}.log")).read().splitlines()
        check(lines and all(f"[rank {rank}]" in line for line in lines), f"G9: rank {rank}'s log lines lack it")
    with h5py.File(out, "r") as f:
        a = f.attrs
        for name in ("software_version", "created", "config", "config_sha256", "model_path", "model_sha256",
                     "model_meta", "manifest_sha256", "task", "dataset", "hostnames", "device", "libtorch", "hdf5",
                     "opencv", "mpi", "attempts"):
            check(isinstance(a.get(name), str) and a.get(name), f"G10: attribute {name} missing or empty")
        check(int(a["mpi_ranks"]) == job.args.ranks, f"G10: mpi_ranks {a.get('mpi_ranks')}")
        chunks = ITEMS // CHUNK
        check(re.match(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ ranks={job.args.ranks} hosts=\S+ threads=1 "
                       rf"slurm_job=\S+(?: slurm_\w+=\S+)* start pending_chunks={chunks}/{chunks}$",
                       a["attempts"]), f"G10: attempts {a['attempts']!r}")


def peak_rss_per_rank(logs, ranks):
    peaks = []
    for rank in range(ranks):
        text = open(os.path.join(logs, f"rank-{rank}.log")).read()
        found = re.findall(r"peak RSS (\d+) MiB", text)
        peaks.append(int(found[-1]) if found else None)
    return peaks


def scenario_memory(job):
    """G11: the peak RSS of every rank does not grow with the item count (20 against 200 items)."""
    peaks = {}
    for items in (20, 200):
        out = job.path(f"memory-{items}.h5")
        logs = job.path(f"memory-{items}-logs")
        fresh(out, logs)
        args = job.args
        # Passes of a few MiB: with the defaults' 64 MiB head passes, where the heap happens to place them moves a
        # rank's peak by up to 80 MiB from run to run (seen on the base code as well), hiding a leak of that size.
        command = job.command(out, args.ranks, "--log_dir", logs, "--metrics", "none", "--head_batch_size", "512",
                              "--full_batch_size", "16", limit=items)
        done = subprocess.run(command, env=job.env, capture_output=True, text=True, timeout=600)
        check(done.returncode == 0, f"memory run of {items} items failed: {done.stderr[-2000:]}")
        peaks[items] = peak_rss_per_rank(logs, args.ranks)
    print(f"peak RSS per rank (MiB): 20 items {peaks[20]}, 200 items {peaks[200]}")
    for rank in range(job.args.ranks):
        small, large = peaks[20][rank], peaks[200][rank]
        check(small and large and large <= small * 1.10 + 16,
              f"G11: rank {rank}'s peak RSS grew from {small} MiB (20 items) to {large} MiB (200 items)")


SCENARIOS = {
    "kill-and-resume": scenario_kill_and_resume,
    "dap2-kill-and-resume": lambda job: scenario_kill_and_resume(job.with_profile(DAP2)),
    "signal": scenario_signal,
    "refusals": scenario_refusals,
    "lock": scenario_lock,
    "bad-items": scenario_bad_items,
    "progress-and-provenance": scenario_progress_and_provenance,
    "memory": scenario_memory,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--pixab", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    SCENARIOS[args.scenario](Job(args))
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        return 1
    print(f"OK: {args.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
