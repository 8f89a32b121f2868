#!/usr/bin/python3
"""Reads pixab results files into one pandas DataFrame and prints the paper's Table 3 from it (docs/read-results.md).

    tools/read_results.py results/imgn.h5 results/voc.h5 results/coco.h5 results/mod.h5
    tools/read_results.py results/*.h5 --format csv --dataframe results/items.csv
    tools/read_results.py results/dap2.h5 --example "ae2_000042#t3" ae2_000042.png   # an adversarial example

As a library (tools/ on sys.path):

    from read_results import load_results, table3, write_example_png
    df = load_results(["results/imgn.h5"])       # one row per item and method, metrics as columns
    print(table3(df))                            # long format: table, dataset, method, metric, mean, n
    write_example_png("results/dap1.h5", 0, "row0.png")   # row 0's adversarial example, lossless

Only /items and /metrics are read (the maps are never loaded); an example reads one row of /adversarial/image.
Table 3's means are those of `pixab report`: ok items (status 0), NaN values left out, IIC as a percentage
(100 x the mean of its 0/1 values).
"""

import argparse
import os
import struct
import sys
import zlib

import h5py
import numpy as np
import pandas as pd

# io/item_status.hpp, in code order.
STATUS_NAMES = ["ok", "missing", "unreadable", "truncated", "too_large", "bad_annotation", "attack_failed",
                "model_error"]

# Table 3 as pixab report has it (pipeline/report_tables.cpp): metric id, heading, scale, Markdown decimals.
TABLE3_METRICS = [("average_drop", "AD (%)", 1.0, 2),
                  ("increase_in_confidence", "IIC (%)", 100.0, 2),
                  ("compactness", "Compactness", 1.0, 3)]

ITEM_KEY_COLUMNS = ["file", "dataset_label", "task", "id", "method"]


def text_attribute(file, name):
    value = file.attrs.get(name, "")
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def split_list(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def read_items(file):
    """Every one-dimensional /items dataset as a column (strings decoded), plus the status name."""
    items = file["items"]
    columns = {}
    for name, dataset in items.items():
        if dataset.ndim != 1:
            continue  # /items/boxes is [N, B, 4]
        columns[name] = dataset.asstr()[()] if h5py.check_string_dtype(dataset.dtype) else dataset[()]
    frame = pd.DataFrame(columns)
    frame["status_name"] = frame["status"].map(dict(enumerate(STATUS_NAMES))).fillna("unknown")
    return frame


def method_order(listed, in_arrays):
    """The file's `methods` attribute in its order, then methods found only in arrays, alphabetically."""
    return listed + sorted(set(in_arrays) - set(listed))


def read_results_file(path, label):
    """One file as rows of (item, method): item columns, then one float64 column per metric; and the methods
    its `methods` attribute lists."""
    with h5py.File(path, "r") as file:
        items = read_items(file)
        metrics_group = file.get("metrics", {})
        listed = split_list(text_attribute(file, "methods"))
        methods = method_order(listed, list(metrics_group))
        task = text_attribute(file, "task") or "natural"
        rows = []
        for method in methods:
            frame = items.copy()
            frame.insert(0, "method", method)
            for metric, dataset in metrics_group.get(method, {}).items():
                if dataset.shape != (len(items),):
                    raise ValueError(f"{path}: /metrics/{method}/{metric} has shape {dataset.shape}, expected "
                                     f"({len(items)},)")
                # float64 holds every stored float32 exactly; pandas would sum float32 columns in float32.
                frame[metric] = dataset[()].astype(np.float64)
            rows.append(frame)
    frame = pd.concat(rows, ignore_index=True) if rows else items.assign(method=pd.Series(dtype=str))
    frame.insert(0, "task", task)
    frame.insert(0, "dataset_label", label)
    frame.insert(0, "file", path)
    return frame, listed


def file_labels(paths):
    """Column headings as pixab report makes them: dataset_label, else the file name's stem; repeats get -2, -3."""
    labels = []
    for path in paths:
        with h5py.File(path, "r") as file:
            wanted = text_attribute(file, "dataset_label") or os.path.splitext(os.path.basename(path))[0]
        label, copy = wanted, 2
        while label in labels:
            label, copy = f"{wanted}-{copy}", copy + 1
        labels.append(label)
    return labels


def load_results(paths):
    """All files as one DataFrame: one row per (file, item, method); item columns, then one column per metric
    (NaN where the metric is undefined for the item or the method has no such array)."""
    frames, listed = zip(*(read_results_file(path, label) for path, label in zip(paths, file_labels(paths))))
    frame = pd.concat(frames, ignore_index=True)
    # A metric a file lacks appears as NaN rather than failing the concatenation; the key columns come first.
    frame = frame[ITEM_KEY_COLUMNS + [c for c in frame.columns if c not in ITEM_KEY_COLUMNS]]
    # The report's row order across files: every file's `methods` attribute first, then the other methods.
    frame.attrs["method_order"] = method_order(list(dict.fromkeys(sum(listed, []))), frame["method"].dropna())
    return frame


def table3(frame):
    """Table 3 in long format (table, dataset, method, metric, mean, n), in pixab report's order: metric, then
    dataset; rows are methods in run order. Cells with no value (n = 0) are left out."""
    ok = frame[(frame["task"] == "natural") & (frame["status"] == 0)]
    datasets = list(dict.fromkeys(frame["dataset_label"]))
    methods = frame.attrs.get("method_order") or list(dict.fromkeys(frame["method"]))
    cells = []
    for metric, _, scale, _ in TABLE3_METRICS:
        if metric not in ok:
            continue
        grouped = ok.groupby(["dataset_label", "method"], sort=False)[metric]
        means, counts = grouped.mean() * scale, grouped.count()
        for dataset in datasets:
            for method in methods:
                n = int(counts.get((dataset, method), 0))
                if n > 0:
                    cells.append(("table3", dataset, method, metric, means[(dataset, method)], n))
    return pd.DataFrame(cells, columns=["table", "dataset", "method", "metric", "mean", "n"])


def table3_text(cells):
    """The paper's layout: one row per method, one column per metric and dataset."""
    if cells.empty:
        return "Table 3: no AD, IIC or Compactness values in these files."
    columns = {}
    for metric, heading, _, decimals in TABLE3_METRICS:
        selected = cells[cells["metric"] == metric]
        for dataset in dict.fromkeys(selected["dataset"]):
            column = selected[selected["dataset"] == dataset].set_index("method")["mean"]
            columns[f"{heading} {dataset}"] = column.map(lambda v, d=decimals: f"{v:.{d}f}")
    table = pd.DataFrame(columns).reindex(list(dict.fromkeys(cells["method"]))).fillna("-")
    table.index.name = "method"
    return ("Table 3: AD, IIC and Compactness (means over ok items; counts and bootstrap intervals: pixab report)\n"
            + table.to_string())


def find_row(file, row):
    """The 0-based row number of `row`: a row number (int), or an item id (str, e.g. "ae2_000042#t3"), or a
    string of digits that is no item's id (a row number, as the command line gives it)."""
    ids = file["items/id"].asstr()[()]
    if isinstance(row, str):
        matches = np.flatnonzero(ids == row)
        if len(matches) > 0:
            return int(matches[0])
        if not row.isdigit():
            raise KeyError(f"{file.filename}: no row with id '{row}'")
        row = int(row)
    if not 0 <= row < len(ids):
        raise IndexError(f"{file.filename}: row {row} is outside 0..{len(ids) - 1}")
    return int(row)


def adversarial_example(path, row):
    """A dap1/dap2 row's adversarial example, exactly the 8-bit pixels the model saw, as (rgb, row number, example
    index): rgb is uint8 [H, W, 3] at model-input size, /adversarial/image[/adversarial/image_index[row]] (the rows
    of one AE2 share it). `row`: a row number or an item id (find_row). ValueError for a file without adversarial
    examples or a row that has none (image_index -1: its item could not be read)."""
    with h5py.File(path, "r") as file:
        if "adversarial/image" not in file or "adversarial/image_index" not in file:
            raise ValueError(f"{path}: no /adversarial/image (task {text_attribute(file, 'task') or 'natural'}): "
                             f"only dap1 and dap2 files hold adversarial examples")
        number = find_row(file, row)
        index = int(file["adversarial/image_index"][number])
        images = file["adversarial/image"]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
            raise ValueError(f"{path}: /adversarial/image is {images.dtype} {images.shape}, expected uint8 "
                             f"[examples, H, W, 3]")
        if not 0 <= index < images.shape[0]:
            status = int(file["items/status"][number])
            raise ValueError(f"{path}: row {number} has no adversarial example (image_index {index}, status "
                             f"{STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else status})")
        return images[index], number, index  # one row: h5py reads only its chunk


def png_bytes(rgb):
    """An 8-bit RGB PNG of a uint8 [H, W, 3] array: lossless, no gamma or colour-profile chunk, so every reader
    gets these exact values back. Pure Python (zlib), no imaging library needed."""
    rgb = np.ascontiguousarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"png_bytes: expected uint8 [H, W, 3], got {rgb.dtype} {rgb.shape}")
    height, width = rgb.shape[:2]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Filter type 0 (none) on every scanline: a 0 byte, then the row's R, G, B bytes.
    scanlines = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, colour type 2 (RGB), no interlace
    pixels = zlib.compress(scanlines.tobytes(), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def write_example_png(path, row, out):
    """Writes a dap1/dap2 row's adversarial example (`adversarial_example`) to the file `out` as a PNG, pixel for
    pixel: no outline, no scaling. Returns what adversarial_example returns."""
    example = adversarial_example(path, row)
    with open(out, "wb") as png:
        png.write(png_bytes(example[0]))
    return example


def write_examples(path, requests):
    """The --example option: (row, PNG path) pairs of one file, each row an item id or a row number."""
    for row, out in requests:
        rgb, number, index = write_example_png(path, row, out)
        print(f"{out}: row {number}, example {index}, {rgb.shape[1]}x{rgb.shape[0]}")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="FILE", help="pixab results files (HDF5), one per dataset")
    parser.add_argument("--format", choices=["text", "csv"], default="text",
                        help="text: the paper's layout; csv: one row per cell, full precision")
    parser.add_argument("--dataframe", metavar="PATH", help="also write the whole DataFrame as CSV")
    parser.add_argument("--example", nargs=2, action="append", metavar=("ROW", "PNG"),
                        help="dap1/dap2 file: write ROW's adversarial example (an item id, or a 0-based row number) "
                             "to PNG, losslessly, instead of the table; repeatable; one FILE only")
    args = parser.parse_args(argv)
    if args.example and len(args.files) != 1:
        parser.error("--example takes exactly one FILE")
    return args


def main(argv):
    args = parse_arguments(argv)
    missing = [path for path in args.files if not os.path.isfile(path)]
    if missing:
        sys.exit(f"read_results: no such file: {', '.join(missing)}")
    if args.example:
        try:
            write_examples(args.files[0], args.example)
        except (KeyError, IndexError, ValueError, OSError) as error:
            sys.exit(f"read_results: {error.args[0] if isinstance(error, KeyError) else error}")
        return
    frame = load_results(args.files)
    if args.dataframe:
        frame.to_csv(args.dataframe, index=False)
    cells = table3(frame)
    if args.format == "csv":
        cells.to_csv(sys.stdout, index=False, float_format="%.17g")
    else:
        print(table3_text(cells))


if __name__ == "__main__":
    main(sys.argv[1:])
