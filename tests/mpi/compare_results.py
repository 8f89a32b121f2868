#!/usr/bin/python3
"""Compares two pixab results files exactly: every dataset (values, NaN in the same places, dtype, shape) and
every root attribute except provenance that names the run itself (time, ranks, hosts, attempts).

Usage: compare_results.py A.h5 B.h5 [--ignore-attribute NAME ...]. Exit 0 when equal, 1 with one line per
difference otherwise. Run with /usr/bin/python3 (Debian's python3-h5py and python3-numpy).
"""

import argparse
import sys

import h5py
import numpy as np

# Provenance of the run rather than of its results (results-schema.md).
RUN_ATTRIBUTES = {"created", "mpi_ranks", "hostnames", "attempts", "software_version", "device"}


def datasets(group, prefix=""):
    found = {}
    for name, item in group.items():
        path = f"{prefix}/{name}"
        if isinstance(item, h5py.Group):
            found.update(datasets(item, path))
        else:
            found[path] = item
    return found


def same_values(a, b):
    if a.dtype.kind in "fc":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def main_compare(path_a, path_b, ignore_attributes=()):
    """0 when the two files hold the same results, else 1 (each difference printed)."""
    ignored = RUN_ATTRIBUTES | set(ignore_attributes)
    differences = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        da, db = datasets(a), datasets(b)
        for path in sorted(set(da) ^ set(db)):
            differences.append(f"{path}: only in {'A' if path in da else 'B'}")
        for path in sorted(set(da) & set(db)):
            x, y = da[path], db[path]
            if x.shape != y.shape or x.dtype != y.dtype:
                differences.append(f"{path}: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
            elif h5py.check_string_dtype(x.dtype):
                if list(x.asstr()[()]) != list(y.asstr()[()]):
                    differences.append(f"{path}: strings differ")
            elif not same_values(x[()], y[()]):
                differences.append(f"{path}: values differ")
        names = (set(a.attrs) | set(b.attrs)) - ignored
        for name in sorted(names):
            if name not in a.attrs or name not in b.attrs:
                differences.append(f"attribute {name}: only in {'A' if name in a.attrs else 'B'}")
            elif a.attrs[name] != b.attrs[name]:
                differences.append(f"attribute {name}: {a.attrs[name]!r} vs {b.attrs[name]!r}")
    for difference in differences:
        print(f"DIFF {path_a} {path_b}: {difference}", file=sys.stderr)
    if differences:
        return 1
    print(f"SAME: {path_a} {path_b}: {len(da)} datasets")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--ignore-attribute", action="append", default=[])
    arguments = parser.parse_args()
    return main_compare(arguments.a, arguments.b, arguments.ignore_attribute)


if __name__ == "__main__":
    sys.exit(main())
