#!/usr/bin/python3
"""Checks tools/read_results.py on real results files: its DataFrame has one row per item and method with the metrics
as float64 columns, and its Table 3 means and counts are exactly those of `pixab report --format csv`. Also checks
its adversarial-example PNGs on a small synthetic dap2-shaped file (and on every given file that has examples):
decoded again, each PNG holds exactly the stored uint8 pixels of its row's example.

Usage: check_read_results.py --pixab PIXAB FILE...
"""

import argparse
import csv
import io
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import h5py
import numpy as np

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


def decode_png(data):
    """An 8-bit RGB, non-interlaced PNG (what read_results writes) as uint8 [H, W, 3]: every filter type, every
    chunk's CRC checked. Independent of the writer, so that a round trip through both proves the bytes."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    position, header, compressed = 8, None, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in chunk {kind}")
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if (depth, colour, interlace) != (8, 2, 0):
        raise ValueError(f"expected 8-bit RGB without interlace, got depth {depth} colour {colour}")
    raw = zlib.decompress(compressed)
    stride = width * 3
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - 3] if x >= 3 else 0
            up, corner = previous[x], previous[x - 3] if x >= 3 else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
            elif kind != 0:
                raise ValueError(f"unknown filter type {kind}")
        rows.append(bytes(line))
        previous = line
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width, 3)


def write_synthetic_dap_file(path):
    """A dap2-shaped file: two AE2s of 3 and 2 rows sharing their examples, one row attack_failed (it keeps its
    example), and one row whose item was never attacked (image_index -1). Random pixels, every value 0..255."""
    ids = ["ae2_000000#t0", "ae2_000000#t1", "ae2_000000#t2", "ae2_000001#t0", "ae2_000001#t1", "ae2_000002#t0"]
    images = np.random.default_rng(7).integers(0, 256, size=(3, 5, 7, 3), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    with h5py.File(path, "w") as file:
        file.attrs["task"] = "dap2"
        file["items/id"] = np.array(ids, dtype=h5py.string_dtype())
        file["items/status"] = np.array([0, 6, 0, 0, 0, 2], np.int8)
        file["adversarial/image"] = images
        file["adversarial/image_index"] = np.array([0, 0, 0, 1, 1, -1], np.int32)
    return ids, images


def check_example_rows(path, rows):
    """Each row's PNG, from the library and from the command line, decodes to its stored example."""
    with h5py.File(path, "r") as file:
        ids = file["items/id"].asstr()[()]
        index = file["adversarial/image_index"][()]
        images = file["adversarial/image"]
        expected = {row: images[index[row]] for row in rows}
    with tempfile.TemporaryDirectory() as folder:
        for row in rows:
            out = os.path.join(folder, f"row{row}.png")
            written, number, example = read_results.write_example_png(path, ids[row], out)
            with open(out, "rb") as png:
                data = png.read()
            check(number == row and example == index[row], f"{path} row {row}: found row {number}, example {example}")
            check(np.array_equal(written, expected[row]), f"{path} row {row}: returned pixels differ from the file")
            check(np.array_equal(decode_png(data), expected[row]), f"{path} row {row}: the PNG does not decode to "
                  f"the stored example")
            check(read_results.png_bytes(expected[row]) == data, f"{path} row {row}: PNG bytes not deterministic")
            try:
                from PIL import Image  # a second, independent decoder where Debian's python3-pil is installed
                with Image.open(out) as image:
                    check(image.mode == "RGB" and np.array_equal(np.asarray(image), expected[row]),
                          f"{path} row {row}: PIL decodes the PNG to other pixels")
            except ImportError:
                pass
        # The command line, by row number, writes the same bytes.
        out = os.path.join(folder, "cli.png")
        subprocess.run([sys.executable, os.path.join(TOOLS_DIR, "read_results.py"), path, "--example",
                        str(rows[0]), out], check=True, capture_output=True)
        with open(out, "rb") as cli, open(os.path.join(folder, f"row{rows[0]}.png"), "rb") as library:
            check(cli.read() == library.read(), f"{path}: --example {rows[0]} wrote other bytes than the library")


def check_example_png(paths):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "dap2.h5")
        write_synthetic_dap_file(path)
        check_example_rows(path, [0, 1, 2, 3, 4])
        for bad, what in [(5, "no adversarial example"), ("ae2_000009#t0", "no row with id"),
                          (6, "outside 0..5")]:
            try:
                read_results.adversarial_example(path, bad)
                check(False, f"synthetic file: row {bad!r} gave an example")
            except (KeyError, IndexError, ValueError) as error:
                check(what in str(error), f"synthetic file: row {bad!r}: unexpected error {error}")
    checked = 0
    for path in dict.fromkeys(paths):
        with h5py.File(path, "r") as file:
            if "adversarial/image_index" not in file:
                continue
            index = file["adversarial/image_index"][()]
        check_example_rows(path, [int(row) for row in np.flatnonzero(index >= 0)[:4]])
        checked += 1
    print(f"adversarial-example PNGs round-trip (synthetic file, {checked} given file(s) with examples)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixab", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    check_dataframe(args.files)
    check_table3_against_report(args.pixab, args.files)
    check_example_png(args.files)
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
