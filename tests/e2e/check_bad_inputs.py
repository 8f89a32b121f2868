#!/usr/bin/env python3
"""Checks a results file of a bad-input run (make_bad_inputs.py) item by item against its expected.json.

Usage: check_bad_inputs.py RESULTS.h5 EXPECTED.json

For every item: the status code; a message that is empty exactly when the item is ok, one line, and contains the
expected text; the conversion flags (grayscale, alpha, 16-bit, CMYK); the target class and box count where expected;
finite maps for ok items and NaN maps for failed ones. The provenance counts must agree with the statuses.
"""
import json
import sys

import h5py
import numpy as np

CONVERSION_FLAGS = 2 | 4 | 8 | 16  # the reader's bits; the CAM methods' warning bits are not the fixture's business


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    expected = json.load(open(sys.argv[2]))
    failures = []
    with h5py.File(sys.argv[1], "r") as f:
        ids = list(f["items/id"].asstr()[()])
        status = f["items/status"][()]
        messages = list(f["items/message"].asstr()[()])
        flags = f["items/flags"][()]
        targets = f["items/target"][()]
        box_counts = f["items/box_count"][()]
        maps = {name: f["maps"][name][()] for name in f["maps"]}
        if sorted(ids) != sorted(expected) or len(set(ids)) != len(ids):
            failures.append(f"items {sorted(ids)} differ from the expected {sorted(expected)}")
        for row, item_id in enumerate(ids):
            want = expected.get(item_id)
            if want is None:
                continue
            where = f"{item_id}: status {status[row]} message {messages[row]!r}"
            if status[row] != want["status"]:
                failures.append(f"{where}: expected status {want['status']}")
            if (messages[row] == "") != (want["status"] == 0) or "\n" in messages[row]:
                failures.append(f"{where}: a one-line message exactly when the item failed")
            if want["message"] not in messages[row]:
                failures.append(f"{where}: expected the message to contain {want['message']!r}")
            if flags[row] & CONVERSION_FLAGS != want["flags"]:
                failures.append(f"{where}: conversion flags {flags[row] & CONVERSION_FLAGS}, expected {want['flags']}")
            if "target" in want and targets[row] != want["target"]:
                failures.append(f"{where}: target {targets[row]}, expected {want['target']}")
            if "box_count" in want and box_counts[row] != want["box_count"]:
                failures.append(f"{where}: {box_counts[row]} boxes, expected {want['box_count']}")
            for name, values in maps.items():
                finite = np.isfinite(values[row]).all()
                if finite != (want["status"] == 0) or (not finite and not np.isnan(values[row]).all()):
                    failures.append(f"{where}: maps/{name} must be finite for ok items and NaN for failed ones")
        failed = int(np.count_nonzero(status))
        if (f.attrs["items_failed"], f.attrs["items_ok"]) != (failed, len(ids) - failed):
            failures.append(f"items_failed / items_ok attributes disagree with /items/status ({failed} failed)")
    for failure in failures:
        print("FAIL", failure)
    if failures:
        sys.exit(1)
    print(f"{sys.argv[1]}: {len(ids)} items as expected ({failed} failed)")


if __name__ == "__main__":
    main()
