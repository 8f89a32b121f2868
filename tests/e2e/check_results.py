#!/usr/bin/python3
"""Checks a pixab results file against docs/results-schema.md, reading it the way analysis tools do (h5py).

Usage: check_results.py FILE --items N --methods activation_cam,grad_cam --map-shape 8,8 [--input-size H,W]
                        [--metrics average_drop,... --steps S] [--sanity-stages S]
Run with the system /usr/bin/python3 (Debian's python3-h5py and python3-numpy). Exit status: 0 when every check
passes, 1 when any fails (each failure printed on its own line), 2 for a bad command line.
"""

import argparse
import datetime
import json
import re
import sys

import h5py
import numpy as np

SCHEMA_VERSION = 2
STATUS_NAMES = {
    0: "ok",
    1: "missing",
    2: "unreadable",
    3: "truncated",
    4: "too_large",
    5: "bad_annotation",
    6: "attack_failed",
    7: "model_error",
}
STATUS_OK = 0
STRING = "string"  # any h5py string dtype; read with .asstr()
ITEM_DATASETS = {
    "id": STRING,
    "source": STRING,
    "message": STRING,
    "status": np.int8,
    "flags": np.uint32,
    "width": np.int32,
    "height": np.int32,
    "target": np.int32,
    "top1": np.int32,
    "target_prob": np.float32,
    "top1_prob": np.float32,
    "box_count": np.int32,
}
INT_ATTRIBUTES = ("schema_version", "seed", "items_total", "items_ok", "items_failed", "mpi_ranks")
STRING_ATTRIBUTES = (
    "software", "software_version", "created", "config", "config_sha256", "model_path", "model_sha256",
    "model_meta", "manifest_sha256", "task", "dataset", "hostnames", "device", "libtorch", "hdf5", "opencv", "mpi",
    "attempts",
)
SHA256_ATTRIBUTES = ("config_sha256", "model_sha256", "manifest_sha256")
TASKS = ("natural", "dap1", "dap2", "sanity")


class Checks:
    """Collects failures so that one run reports all of them, not just the first."""

    def __init__(self):
        self.failures = []

    def expect(self, condition, message):
        if not condition:
            self.failures.append(message)
        return bool(condition)


def pair(text):
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected two integers 'A,B', got '{text}'")
    return tuple(int(p) for p in parts)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the results file (.h5)")
    parser.add_argument("--items", type=int, required=True, help="expected number of items N")
    parser.add_argument("--methods", required=True, help="comma-separated method ids, each needs /maps/<method>")
    parser.add_argument("--map-shape", type=pair, required=True, metavar="h,w", help="shape of one map row")
    parser.add_argument("--input-size", type=pair, metavar="H,W", help="model input size: boxes must lie inside")
    parser.add_argument("--metrics", default="", help="comma-separated metric ids, each needs /metrics/<m>/<id>")
    parser.add_argument("--steps", type=int, default=100, help="deletion / insertion steps of the run")
    parser.add_argument("--sanity-stages", type=int, default=0, help="stages of a sanity-task file")
    parser.add_argument("--channel-weights", type=lambda text: text.split(","),
                        help="comma-separated methods that must have /weights/<method> [N,K] (store_weights); the "
                             "other methods must have none")
    arguments = parser.parse_args()
    arguments.methods = [m for m in arguments.methods.split(",") if m]
    arguments.metrics = [m for m in arguments.metrics.split(",") if m]
    return arguments


def check_items(results, n, checks):
    """Returns {name: numpy array} of the item datasets that have the right dtype and length."""
    items = {}
    if not checks.expect("items" in results, "group /items is missing"):
        return items
    for name, dtype in ITEM_DATASETS.items():
        path = f"/items/{name}"
        if not checks.expect(name in results["items"], f"{path} is missing"):
            continue
        dataset = results["items"][name]
        if dtype is STRING:
            if not checks.expect(h5py.check_string_dtype(dataset.dtype) is not None,
                                 f"{path} has dtype {dataset.dtype}, expected a string type"):
                continue
        elif not checks.expect(dataset.dtype == dtype, f"{path} has dtype {dataset.dtype}, expected {np.dtype(dtype)}"):
            continue
        if not checks.expect(dataset.shape == (n,), f"{path} has shape {dataset.shape}, expected ({n},)"):
            continue
        items[name] = dataset.asstr()[()] if dtype is STRING else dataset[()]
        if dtype is STRING:
            checks.expect(all(isinstance(v, str) for v in items[name]), f"{path} does not read as str")

    if "boxes" in results["items"]:
        boxes = results["items"]["boxes"]
        if (checks.expect(boxes.dtype == np.float32, f"/items/boxes has dtype {boxes.dtype}, expected float32")
                and checks.expect(boxes.ndim == 3 and boxes.shape[0] == n and boxes.shape[1] >= 1
                                  and boxes.shape[2] == 4,
                                  f"/items/boxes has shape {boxes.shape}, expected ({n}, B>=1, 4)")):
            items["boxes"] = boxes[()]
    else:
        checks.expect(False, "/items/boxes is missing")

    if "status" in items:
        unknown = sorted(set(int(s) for s in items["status"]) - set(STATUS_NAMES))
        checks.expect(not unknown, f"/items/status has unknown codes {unknown}")
    if "status" in items and "message" in items:
        for row, (status, message) in enumerate(zip(items["status"], items["message"])):
            if status == STATUS_OK:
                checks.expect(message == "", f"/items/message[{row}] is not empty for an ok item: {message!r}")
            else:
                checks.expect(message != "" and "\n" not in message,
                              f"/items/message[{row}] should be a one-line reason for status "
                              f"{STATUS_NAMES.get(int(status), status)}, got {message!r}")
    return items


def check_boxes(items, input_size, checks):
    if "boxes" not in items or "box_count" not in items:
        return
    boxes, counts = items["boxes"], items["box_count"]
    capacity = boxes.shape[1]
    for row, count in enumerate(counts):
        if not checks.expect(0 <= count <= capacity,
                             f"/items/box_count[{row}] = {count} is outside [0, {capacity}]"):
            continue
        used, unused = boxes[row, :count], boxes[row, count:]
        checks.expect(np.isnan(unused).all(), f"/items/boxes[{row}] has non-NaN values after its {count} boxes")
        if not checks.expect(np.isfinite(used).all(), f"/items/boxes[{row}] has non-finite coordinates"):
            continue
        checks.expect((used[:, 0] <= used[:, 2]).all() and (used[:, 1] <= used[:, 3]).all(),
                      f"/items/boxes[{row}] has a box with x1 > x2 or y1 > y2: {used.tolist()}")
        if input_size is not None:
            height, width = input_size
            inside = ((used[:, [0, 2]] >= 0) & (used[:, [0, 2]] <= width)).all() and \
                     ((used[:, [1, 3]] >= 0) & (used[:, [1, 3]] <= height)).all()
            checks.expect(inside, f"/items/boxes[{row}] is outside [0,{width}]x[0,{height}]: {used.tolist()}")


def check_maps(results, n, methods, map_shape, status, checks):
    for method in methods:
        path = f"/maps/{method}"
        if not checks.expect(path in results, f"{path} is missing"):
            continue
        maps = results[path]
        expected_shape = (n,) + tuple(map_shape)
        if not (checks.expect(maps.dtype == np.float32, f"{path} has dtype {maps.dtype}, expected float32")
                and checks.expect(maps.shape == expected_shape, f"{path} has shape {maps.shape}, "
                                  f"expected {expected_shape}")):
            continue
        if status is None:
            continue
        values = maps[()]
        ok_rows = values[status == STATUS_OK]
        failed_rows = values[status != STATUS_OK]
        checks.expect(np.isfinite(ok_rows).all(), f"{path}: rows of ok items contain NaN or infinity")
        finite = ok_rows[np.isfinite(ok_rows)]
        checks.expect(finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1),
                      f"{path}: rows of ok items leave [0, 1] (min {finite.min() if finite.size else None}, "
                      f"max {finite.max() if finite.size else None})")
        if len(ok_rows) >= 2:
            checks.expect(not (ok_rows == ok_rows[0]).all(), f"{path}: all {len(ok_rows)} ok rows are identical")
        checks.expect(np.isnan(failed_rows).all(), f"{path}: rows of failed items are not all NaN")


def check_weights(results, n, methods, with_weights, status, checks):
    for method in methods:
        path = f"/weights/{method}"
        if method not in with_weights:
            checks.expect(path not in results, f"{path} is stored, but {method} has no channel weights")
            continue
        if not checks.expect(path in results, f"{path} is missing"):
            continue
        weights = results[path]
        if checks.expect(weights.dtype == np.float32 and weights.ndim == 2 and weights.shape[0] == n,
                         f"{path} has dtype {weights.dtype} and shape {weights.shape}, expected float32 [{n}, K]"):
            checks.expect(np.isfinite(weights[()][status == STATUS_OK]).all(), f"{path}: ok rows are not finite")


# The range of each metric on ok items (metrics.md); None: any finite value.
METRIC_RANGES = {
    "average_drop": (0, 100), "increase_in_confidence": (0, 1), "compactness": None, "deletion_auc": (0, 1),
    "insertion_auc": (0, 1), "pointing_game": (0, 1), "proportion": (0, 100), "loc_iou": (0, 1),
    "loc_correct": (0, 1),
}
BINARY_METRICS = ("increase_in_confidence", "pointing_game", "loc_correct")
LOCALISATION_METRICS = ("pointing_game", "proportion", "loc_iou", "loc_correct")


def read_float_array(results, path, shape, checks):
    if not checks.expect(path in results, f"{path} is missing"):
        return None
    dataset = results[path]
    if not (checks.expect(dataset.dtype == np.float32, f"{path} has dtype {dataset.dtype}, expected float32")
            and checks.expect(dataset.shape == shape, f"{path} has shape {dataset.shape}, expected {shape}")):
        return None
    return dataset[()]


def check_metrics(results, n, methods, metrics, steps, items, checks):
    """Shapes, ranges and NaN rules of /metrics and /curves, and the identities that tie them together."""
    status, boxes = items.get("status"), items.get("box_count")
    if status is None:
        return
    ok = status == STATUS_OK
    for method in methods:
        values = {}
        for metric in metrics:
            path = f"/metrics/{method}/{metric}"
            column = read_float_array(results, path, (n,), checks)
            if column is None:
                continue
            values[metric] = column
            checks.expect(np.isnan(column[~ok]).all(), f"{path}: failed items are not NaN")
            defined = ok.copy()
            if metric in LOCALISATION_METRICS and boxes is not None:
                # Undefined exactly where the target class has no box (proportion also for an all-zero map).
                defined &= boxes > 0
                checks.expect(np.isnan(column[ok & (boxes == 0)]).all(),
                              f"{path}: items without a target-class box are not NaN")
            finite = column[defined & np.isfinite(column)]
            if metric != "proportion":
                checks.expect(np.isfinite(column[defined]).all(), f"{path}: NaN for an item where it is defined")
            bounds = METRIC_RANGES[metric]
            if bounds is not None and finite.size:
                checks.expect(finite.min() >= bounds[0] - 1e-6 and finite.max() <= bounds[1] + 1e-6,
                              f"{path}: values leave [{bounds[0]}, {bounds[1]}]: {finite.min()}..{finite.max()}")
            if metric in BINARY_METRICS:
                checks.expect(np.isin(finite, (0, 1)).all(), f"{path}: values other than 0 and 1")
        if "loc_iou" in values and "loc_correct" in values:
            rows = ok & np.isfinite(values["loc_iou"])
            checks.expect(((values["loc_iou"][rows] >= 0.5) == (values["loc_correct"][rows] == 1)).all(),
                          f"/metrics/{method}: loc_correct is not loc_iou >= 0.5")
        for kind, start_or_end in (("deletion", 0), ("insertion", -1)):
            if f"{kind}_auc" not in metrics:
                continue
            path = f"/curves/{method}/{kind}"
            curves = read_float_array(results, path, (n, steps + 1), checks)
            if curves is None:
                continue
            checks.expect(np.isnan(curves[~ok]).all(), f"{path}: failed items are not NaN")
            good = curves[ok]
            checks.expect(np.isfinite(good).all() and good.min() >= 0 and good.max() <= 1,
                          f"{path}: ok curves leave [0, 1]")
            # Deletion starts, insertion ends, at the clean input: p_c = target_prob.
            checks.expect(np.allclose(good[:, start_or_end], items["target_prob"][ok], atol=1e-5),
                          f"{path}: the clean end of the curve is not /items/target_prob")
            if f"{kind}_auc" in values:
                auc = np.trapz(good.astype(np.float64), dx=1.0 / steps, axis=1)
                checks.expect(np.allclose(values[f"{kind}_auc"][ok], auc, atol=1e-5),
                              f"/metrics/{method}/{kind}_auc is not the trapezoid area of {path}")


def check_sanity(results, n, methods, stages, map_shape, status, checks):
    attributes = results.attrs
    names = attributes.get("sanity_stages", "")
    checks.expect(isinstance(names, str) and len(names.split(",")) == stages,
                  f"sanity_stages attribute {names!r} does not name {stages} stages")
    for method in methods:
        for measure in ("spearman", "ssim"):
            path = f"/sanity/{method}/{measure}"
            values = read_float_array(results, path, (n, stages), checks)
            if values is None or status is None:
                continue
            finite = values[status == STATUS_OK]
            finite = finite[np.isfinite(finite)]
            checks.expect(finite.size == 0 or (finite.min() >= -1 - 1e-6 and finite.max() <= 1 + 1e-6),
                          f"{path}: values leave [-1, 1]")
            checks.expect(np.isnan(values[status != STATUS_OK]).all(), f"{path}: failed items are not NaN")
        read_float_array(results, f"/sanity/{method}/maps", (n, stages) + tuple(map_shape), checks)


def check_attributes(results, n, status, checks):
    attributes = results.attrs
    for name in INT_ATTRIBUTES:
        if checks.expect(name in attributes, f"root attribute '{name}' is missing"):
            value = attributes[name]
            checks.expect(isinstance(value, (int, np.integer)) and not isinstance(value, bool),
                          f"root attribute '{name}' should be an integer, got {type(value).__name__} {value!r}")
    for name in STRING_ATTRIBUTES:
        if checks.expect(name in attributes, f"root attribute '{name}' is missing"):
            value = attributes[name]
            checks.expect(isinstance(value, str), f"root attribute '{name}' does not read as str "
                          f"(got {type(value).__name__}): store it as a UTF-8 string")

    def text(name):
        value = attributes.get(name)
        return value if isinstance(value, str) else None

    def integer(name):
        value = attributes.get(name)
        return int(value) if isinstance(value, (int, np.integer)) else None

    checks.expect(integer("schema_version") in (None, SCHEMA_VERSION),
                  f"schema_version is {integer('schema_version')}, this checker knows {SCHEMA_VERSION}")
    for name in SHA256_ATTRIBUTES:
        if text(name) is not None:
            checks.expect(re.fullmatch(r"[0-9a-fA-F]{64}", text(name)),
                          f"root attribute '{name}' is not 64 hex characters: {text(name)!r}")
    if text("task") is not None:
        checks.expect(text("task") in TASKS, f"task is {text('task')!r}, expected one of {', '.join(TASKS)}")
    if text("created") is not None:
        checks.expect(is_iso8601_utc(text("created")), f"created is not an ISO-8601 UTC time: {text('created')!r}")
    if text("model_meta") is not None:
        try:
            json.loads(text("model_meta"))
        except ValueError as error:
            checks.expect(False, f"model_meta is not JSON: {error}")

    total, ok, failed = integer("items_total"), integer("items_ok"), integer("items_failed")
    if None not in (total, ok, failed):
        checks.expect(total == n, f"items_total is {total}, expected {n}")
        checks.expect(ok + failed == total, f"items_ok + items_failed = {ok} + {failed} != items_total = {total}")
        if status is not None:
            ok_rows = int((status == STATUS_OK).sum())
            checks.expect(ok == ok_rows, f"items_ok is {ok} but {ok_rows} rows of /items/status are 0")


def is_iso8601_utc(text):
    try:
        # Python 3.11 parses the trailing "Z"; older ones need the offset spelled out.
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.utcoffset() == datetime.timedelta(0)


def main():
    arguments = parse_arguments()
    checks = Checks()
    try:
        results = h5py.File(arguments.file, "r")
    except OSError as error:
        print(f"FAIL: cannot open {arguments.file} as HDF5: {error}", file=sys.stderr)
        return 1
    with results:
        items = check_items(results, arguments.items, checks)
        status = items.get("status")
        check_boxes(items, arguments.input_size, checks)
        check_maps(results, arguments.items, arguments.methods, arguments.map_shape, status, checks)
        check_attributes(results, arguments.items, status, checks)
        if arguments.channel_weights:
            check_weights(results, arguments.items, arguments.methods, arguments.channel_weights, status, checks)
        if arguments.metrics:
            check_metrics(results, arguments.items, arguments.methods, arguments.metrics, arguments.steps, items,
                          checks)
        if arguments.sanity_stages:
            check_sanity(results, arguments.items, arguments.methods, arguments.sanity_stages, arguments.map_shape,
                         status, checks)

    if checks.failures:
        for failure in checks.failures:
            print(f"FAIL: {arguments.file}: {failure}", file=sys.stderr)
        print(f"{len(checks.failures)} check(s) failed", file=sys.stderr)
        return 1
    ok_count = int((status == STATUS_OK).sum())
    print(f"OK: {arguments.file}: {arguments.items} items ({ok_count} ok, {arguments.items - ok_count} failed), "
          f"maps {', '.join(arguments.methods)} {arguments.map_shape[0]}x{arguments.map_shape[1]}, "
          f"schema_version {SCHEMA_VERSION}, metrics {', '.join(arguments.metrics) or 'none'}"
          + (f", sanity stages {arguments.sanity_stages}" if arguments.sanity_stages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
