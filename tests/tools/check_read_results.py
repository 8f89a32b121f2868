#!/usr/bin/python3
"""Checks tools/read_results.py on real results files: its DataFrame has one row per item and method with the metrics
as float64 columns, and its Table 3 means and counts are exactly those of `pixab report --format csv`.

Usage: check_read_results.py --pixab PIXAB FILE...
"""

import argparse
import csv
import io
import math
import os
import subprocess
import sys

import h5py

TOOLS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
sys.path.insert(0, TOOLS_DIR)
import read_results  # noqa: E402  (found through TOOLS_DIR)

# Both sides average the same float32 values in double precision, in different orders.
RELATIVE_TOLERANCE = 1e-6

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def csv_rows(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(output)))


def check_dataframe(paths):
    frame = read_results.load_results(paths)
    for column in ["file", "dataset_label", "id", "method", "status", "target"]:
        check(column in frame, f"DataFrame: no column '{column}'")
    expected_rows = 0
    for path in paths:
        with h5py.File(path, "r") as file:
            items = len(file["items/id"])
            listed = [m for m in file.attrs.get("methods", "").split(",") if m]
            methods = set(listed) | set(file.get("metrics", {}))
            expected_rows += items * len(methods)
            for method in file.get("metrics", {}):
                for metric in file["metrics"][method]:
                    check(metric in frame and frame[metric].dtype == "float64",
                          f"DataFrame: metric {metric} is not a float64 column")
    check(len(frame) == expected_rows, f"DataFrame: {len(frame)} rows, expected {expected_rows} (items x methods)")
    check(frame.groupby(["file", "dataset_label", "id", "method"]).size().max() == 1,
          "DataFrame: an (item, method) pair appears twice")


def check_table3_against_report(pixab, paths):
    tool = [sys.executable, os.path.join(TOOLS_DIR, "read_results.py"), *paths]
    ours = {(r["dataset"], r["method"], r["metric"]): r for r in csv_rows(tool + ["--format", "csv"])}
    report = {(r["dataset"], r["method"], r["metric"]): r
              for r in csv_rows([pixab, "report", *paths, "--format", "csv"])
              if r["table"] == "table3" and int(r["n"]) > 0}
    check(len(report) > 0, "pixab report has no Table 3 cells: the files have no AD/IIC/Compactness")
    check(ours.keys() == report.keys(),
          f"Table 3 cells differ: only in read_results {sorted(ours.keys() - report.keys())}, "
          f"only in pixab report {sorted(report.keys() - ours.keys())}")
    for key in ours.keys() & report.keys():
        mine, theirs = float(ours[key]["mean"]), float(report[key]["mean"])
        check(math.isclose(mine, theirs, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12),
              f"{key}: mean {mine!r} from read_results, {theirs!r} from pixab report")
        check(ours[key]["n"] == report[key]["n"], f"{key}: n {ours[key]['n']} vs {report[key]['n']}")
    print(f"{len(report)} Table 3 cells agree with pixab report")
    # The paper's layout prints every method that has a cell.
    text = subprocess.run(tool, check=True, capture_output=True, text=True).stdout
    print(text)
    for method in {key[1] for key in report}:
        check(any(line.startswith(method + " ") for line in text.splitlines()),
              f"text table: no row for {method}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixab", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    check_dataframe(args.files)
    check_table3_against_report(args.pixab, args.files)
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
