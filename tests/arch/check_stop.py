#!/usr/bin/python3
"""A stop request is honoured within Slurm's grace time on a large model: `pixab run` on Inception V3 (random
weights, 299x299, 2048 channels) with the default methods and metrics, signalled once it is computing its first
batch, must exit 3 within 30 s (one batch of it takes minutes on a CPU: only the check between model passes
makes this possible), say how to resume, and leave no results file.

Usage: check_stop.py PIXAB MODEL WORK_DIR PHOTO...
"""

import os
import shutil
import signal
import subprocess
import sys
import time

GRACE_SECONDS = 30


def main():
    pixab, model, work, photos = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    listing = os.path.join(work, "photos.csv")
    with open(listing, "w") as f:
        f.write("".join(photo + "\n" for photo in photos))
    out = os.path.join(work, "stopped.h5")
    log_path = os.path.join(work, "run.log")
    with open(log_path, "w") as log:
        run = subprocess.Popen([pixab, "run", "--model", model, "--dataset.kind", "list", "--dataset.root", listing,
                                "--out", out], stdout=log, stderr=subprocess.STDOUT)
    # The run logs its plan once the model is loaded and the items are listed: from then on it computes.
    deadline = time.monotonic() + 300
    while "to compute" not in open(log_path).read():
        if run.poll() is not None or time.monotonic() > deadline:
            print(f"the run never started computing (exit {run.poll()}):\n{open(log_path).read()}")
            run.kill()
            return 1
        time.sleep(0.2)
    time.sleep(5)  # well inside the first batch
    sent = time.monotonic()
    run.send_signal(signal.SIGUSR1)
    try:
        code = run.wait(timeout=120)
    except subprocess.TimeoutExpired:
        run.kill()
        print(f"no exit within 120 s of SIGUSR1:\n{open(log_path).read()}")
        return 1
    elapsed = time.monotonic() - sent
    text = open(log_path).read()
    print(text[-2000:])
    print(f"exit {code} {elapsed:.1f} s after SIGUSR1")
    ok = code == 3 and elapsed <= GRACE_SECONDS and "--resume" in text and not os.path.exists(out)
    if not ok:
        print(f"expected exit 3 within {GRACE_SECONDS} s, a resume hint and no results file")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
