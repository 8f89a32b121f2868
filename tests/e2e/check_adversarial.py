#!/usr/bin/python3
"""Checks the adversarial-patch tasks' results files (dap1, dap2) with h5py: the examples, their patches, the rows'
targets and regions, the DAP / DOA / COP figures, the report, and that an AE2 reloaded from PNG is explained alike.

Usage:
  check_adversarial.py check FILE --task dap1|dap2 --sources M --methods a,b [--cop-methods a,b] [--kmin K]
                       [--kmax K] [--size-min F] [--size-max F] [--confidence P] [--max-iters I]
  check_adversarial.py export FILE --out DIR [--rows R]     (dap2: R ok rows as PNGs + a labelled list CSV)
  check_adversarial.py reload FILE RELOADED --methods a,b    (the reloaded natural run equals the dap2 rows)
  check_adversarial.py report --pixab BIN FILE... --expect TEXT [--expect TEXT ...]
Run with the system /usr/bin/python3 (Debian's python3-h5py, python3-numpy, python3-pil). Exit status 0 when every
check passes, 1 when any fails (each failure printed), 2 for a bad command line.
"""

import argparse
import json
import math
import os
import re
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_results  # noqa: E402  (the schema checks every results file passes)

STATUS_OK, STATUS_ATTACK_FAILED = 0, 6
ACTIVATION_CAM = "activation_cam"


def comma_list(text):
    return [part for part in text.split(",") if part]


# ---- check -------------------------------------------------------------------------------------------------------

def read(results, path, dtype, shape, checks):
    """The dataset at path, or None (a failure recorded) when it is missing or of another dtype or shape."""
    if not checks.expect(path in results, f"{path} is missing"):
        return None
    dataset = results[path]
    if not checks.expect(dataset.dtype == dtype and dataset.shape == tuple(shape),
                         f"{path} is {dataset.dtype} {dataset.shape}, expected {np.dtype(dtype)} {tuple(shape)}"):
        return None
    return dataset[()]


def source_image(path, size):
    """The clean image the run read, as uint8 [H, W, 3], or None when it was resized for the model (not compared)."""
    from PIL import Image  # python3-pil; only dap1 needs it
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels if pixels.shape[:2] == tuple(size) else None


def side_range(side, size_min, size_max):
    """Patch sides in pixels: [ceil(size_min * side), floor(size_max * side)] (metrics.md, patch geometry)."""
    return max(1, math.ceil(size_min * side - 1e-9)), min(side, math.floor(size_max * side + 1e-9))


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_adversarial(args):
    checks = check_results.Checks()
    with h5py.File(args.file, "r") as results:
        n = results["items/id"].shape[0] if "items/id" in results else 0
        # The schema every results file follows (items, boxes inside the input, maps, attributes).
        items = check_results.check_items(results, n, checks)
        check_results.check_boxes(items, args.input_size, checks)
        status = items.get("status")
        check_results.check_maps(results, n, args.methods, args.map_shape, status, checks)
        check_results.check_attributes(results, n, status, checks)
        checks.expect(results.attrs.get("task") == args.task, f"task is {results.attrs.get('task')!r}")
        if any(name not in items for name in ("id", "source", "status", "target", "top1", "target_prob", "boxes",
                                              "box_count")):
            return report_failures(args.file, checks)
        ok = status == STATUS_OK
        failed = ~ok
        checks.expect(np.isin(status, (STATUS_OK, STATUS_ATTACK_FAILED)).all(),
                      f"statuses other than ok and attack_failed: {sorted(set(status.tolist()))}")
        checks.expect(ok.any(), "no row is ok: nothing was explained")

        height, width = args.input_size
        kmax = args.kmax
        patches = read(results, "/adversarial/patches", np.float32, (n, kmax, 4), checks)
        count = read(results, "/adversarial/patch_count", np.int32, (n,), checks)
        classes = read(results, "/adversarial/patch_classes", np.int32, (n, kmax), checks)
        iters = read(results, "/adversarial/attack_iters", np.int32, (n,), checks)
        prob = read(results, "/adversarial/attack_prob", np.float32, (n,), checks)
        region = read(results, "/adversarial/region", np.int32, (n,), checks)
        index = read(results, "/adversarial/image_index", np.int32, (n,), checks)
        image = read(results, "/adversarial/image", np.uint8, (args.sources, height, width, 3), checks)
        if any(a is None for a in (patches, count, classes, iters, prob, region, index, image)):
            return report_failures(args.file, checks)

        ids, target, sources = items["id"], items["target"], items["source"]
        # Source items in row order; each row's example is its source's, and the rows of one AE2 share it.
        source_ids = [i.split("#")[0] for i in ids]
        order = list(dict.fromkeys(source_ids))
        checks.expect(len(order) == args.sources, f"{len(order)} source items, expected {args.sources}")
        expected_index = np.array([order.index(s) for s in source_ids], dtype=np.int32)
        checks.expect(np.array_equal(index, expected_index),
                      f"image_index {index.tolist()} is not each row's source item in order {expected_index.tolist()}")

        lo_h, hi_h = side_range(height, args.size_min, args.size_max)
        lo_w, hi_w = side_range(width, args.size_min, args.size_max)
        for r in range(n):
            k = int(count[r])
            row = f"row {r} ({ids[r]})"
            if not checks.expect(args.kmin <= k <= kmax, f"{row}: patch_count {k} outside [{args.kmin}, {kmax}]"):
                continue
            used = patches[r, :k]
            checks.expect(np.isnan(patches[r, k:]).all(), f"{row}: patches after the {k} used are not NaN")
            checks.expect((classes[r, k:] == -1).all(), f"{row}: patch_classes after the {k} used are not -1")
            if not checks.expect(np.isfinite(used).all() and (used == np.round(used)).all(),
                                 f"{row}: patch coordinates are not whole pixels: {used.tolist()}"):
                continue
            boxes = used.astype(int)
            for p, (x1, y1, x2, y2) in enumerate(boxes):
                checks.expect(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height,
                              f"{row}: patch {p} {boxes[p].tolist()} is outside the {width}x{height} input")
                checks.expect(lo_w <= x2 - x1 <= hi_w and lo_h <= y2 - y1 <= hi_h,
                              f"{row}: patch {p} is {x2 - x1}x{y2 - y1} px, sides must be in [{lo_w}, {hi_w}] x "
                              f"[{lo_h}, {hi_h}]")
            for p in range(k):
                for q in range(p + 1, k):
                    checks.expect(not overlap(boxes[p], boxes[q]),
                                  f"{row}: patches {p} {boxes[p].tolist()} and {q} {boxes[q].tolist()} overlap")
            used_classes = classes[r, :k]
            checks.expect(((used_classes >= 0) & (used_classes < args.classes)).all(),
                          f"{row}: patch classes {used_classes.tolist()} outside [0, {args.classes})")
            # Targets are drawn among the classes other than the clean prediction (/items/top1).
            checks.expect(target[r] != items["top1"][r],
                          f"{row}: target {target[r]} is the clean top-1 {items['top1'][r]}")
            # The attack's record is kept for every row, failed or not.
            checks.expect(iters[r] >= 0 and np.isfinite(prob[r]) and 0 <= prob[r] <= 1,
                          f"{row}: attack_iters {iters[r]}, attack_prob {prob[r]}")
            if args.task == "dap1":
                checks.expect(region[r] == -1, f"{row}: region {region[r]}, expected -1 (the union)")
                checks.expect((used_classes == target[r]).all(),
                              f"{row}: patch classes {used_classes.tolist()} are not the target {target[r]}")
                checks.expect(iters[r] <= 2 * args.max_iters, f"{row}: {iters[r]} iterations for two stages")
                if ok[r]:
                    # The stored AE1 is the example explained: its p_t is the attack's final one.
                    checks.expect(abs(items["target_prob"][r] - prob[r]) <= 1e-5,
                                  f"{row}: target_prob {items['target_prob'][r]} is not attack_prob {prob[r]}")
                    region_boxes = items["boxes"][r, :items["box_count"][r]]
                    checks.expect(sorted(map(tuple, region_boxes.tolist())) == sorted(map(tuple, used.tolist())),
                                  f"{row}: /items/boxes {region_boxes.tolist()} are not the union of the patches "
                                  f"{used.tolist()}")
                else:
                    checks.expect(iters[r] >= args.max_iters, f"{row}: failed after only {iters[r]} iterations")
                # Outside the patches the AE1 is the clean image (stored losslessly at input size).
                clean = source_image(os.path.join(args.source_dir, sources[r]), (height, width))
                if clean is not None:
                    outside = np.ones((height, width), bool)
                    for x1, y1, x2, y2 in boxes:
                        outside[y1:y2, x1:x2] = False
                    example = image[index[r]]
                    checks.expect(np.array_equal(example[outside], clean[outside]),
                                  f"{row}: pixels outside the patches differ from the clean image {sources[r]}")
                    checks.expect(not np.array_equal(example, clean), f"{row}: the AE1 is the clean image")
                else:
                    print(f"note: {sources[r]} is not {width}x{height}: the clean pixels are not compared")
            else:
                source, _, patch = ids[r].partition("#t")
                checks.expect(re.fullmatch(r"ae2_\d{6}", source) and patch.isdigit() and int(patch) == region[r],
                              f"{row}: id does not name its region's patch {region[r]}")
                checks.expect(0 <= region[r] < k, f"{row}: region {region[r]} is not one of its {k} patches")
                checks.expect(len(set(used_classes.tolist())) == k, f"{row}: patch classes {used_classes} repeat")
                checks.expect(target[r] == classes[r, region[r]],
                              f"{row}: target {target[r]} is not its patch's class {classes[r, region[r]]}")
                checks.expect(iters[r] <= args.max_iters, f"{row}: {iters[r]} iterations, at most {args.max_iters}")
                if ok[r]:
                    checks.expect(prob[r] >= args.confidence,
                                  f"{row}: ok, but its patch alone reached p = {prob[r]} < {args.confidence}")
                    checks.expect(items["box_count"][r] == 1 and
                                  np.array_equal(items["boxes"][r, 0], patches[r, region[r]]),
                                  f"{row}: /items/boxes is not its patch {patches[r, region[r]].tolist()}")
                else:
                    checks.expect(iters[r] == args.max_iters, f"{row}: failed after {iters[r]} iterations")

        if args.task == "dap2":
            # The rows of one AE2: consecutive, one per patch (#t0..#t<k-1>), the same layout and example.
            for position, source in enumerate(order):
                rows = [r for r in range(n) if source_ids[r] == source]
                first = rows[0]
                k = int(count[first])
                checks.expect(rows == list(range(first, first + len(rows))) and len(rows) == k and
                              [ids[r] for r in rows] == [f"{source}#t{t}" for t in range(k)],
                              f"{source}: rows {[ids[r] for r in rows]}, expected #t0..#t{k - 1}")
                for r in rows[1:]:
                    checks.expect(count[r] == count[first] and np.array_equal(patches[r], patches[first], equal_nan=True)
                                  and np.array_equal(classes[r], classes[first]),
                                  f"{source}: row {ids[r]} has another layout than {ids[first]}")
                # Zero outside every patch; each patch that was attacked holds something.
                outside = np.ones((height, width), bool)
                for p, (x1, y1, x2, y2) in enumerate(patches[first, :k].astype(int)):
                    outside[y1:y2, x1:x2] = False
                    attacked = any(region[r] == p and iters[r] > 0 for r in rows)
                    checks.expect(not attacked or image[position, y1:y2, x1:x2].any(),
                                  f"{source}: patch {p} was attacked but is all zero")
                checks.expect(not image[position][outside].any(), f"{source}: non-zero pixels outside the patches")

        check_figures(results, args, n, ok, failed, checks)
    return report_failures(args.file, checks, f"{n} rows ({int(ok.sum())} ok, {int(failed.sum())} attack_failed) of "
                                               f"{args.sources} {'AE1' if args.task == 'dap1' else 'AE2'}s")


def check_figures(results, args, n, ok, failed, checks):
    """The task's metrics: exactly the expected ones per method, NaN for failed rows; DOA from the stored maps."""
    prefix = args.task + "_"
    maps = {m: results[f"maps/{m}"][()].reshape(n, -1).astype(np.float64) for m in args.methods
            if f"maps/{m}" in results}
    for method in args.methods:
        expected = {prefix + "pointing_game", prefix + "proportion"}
        if args.task == "dap2" and method != ACTIVATION_CAM:
            expected.add("doa")
        if args.task == "dap2" and method in args.cop_methods:
            expected.add("cop")
        group = f"metrics/{method}"
        found = set(results[group]) if group in results else set()
        checks.expect(found == expected, f"/{group}: {sorted(found)}, expected {sorted(expected)}")
        values = {name: results[f"{group}/{name}"][()] for name in found & expected
                  if results[f"{group}/{name}"].shape == (n,) and results[f"{group}/{name}"].dtype == np.float32}
        for name, column in values.items():
            checks.expect(np.isnan(column[failed]).all(), f"/{group}/{name}: attack_failed rows are not NaN")
        zero_map = ~maps[method].any(axis=1) if method in maps else np.zeros(n, bool)
        if prefix + "pointing_game" in values:
            column = values[prefix + "pointing_game"][ok]
            checks.expect(np.isin(column, (0, 1)).all(), f"/{group}/{prefix}pointing_game: ok rows not 0 or 1")
        if prefix + "proportion" in values:
            column = values[prefix + "proportion"]
            # NaN exactly where the map is all zero (no energy to share out).
            checks.expect(np.array_equal(np.isnan(column[ok]), zero_map[ok]),
                          f"/{group}/{prefix}proportion: NaN other than where the map is all zero")
            finite = column[ok & ~zero_map]
            checks.expect(finite.size == 0 or (finite.min() >= 0 and finite.max() <= 100 + 1e-4),
                          f"/{group}/{prefix}proportion: values leave [0, 100]")
        if "doa" in values and method in maps and ACTIVATION_CAM in maps:
            a, b = maps[method], maps[ACTIVATION_CAM]
            norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                expected_doa = np.where(norms > 0, 1 - (a * b).sum(axis=1) / norms, np.nan)
            checks.expect(np.allclose(values["doa"][ok], expected_doa[ok], atol=1e-5, equal_nan=True),
                          f"/{group}/doa is not 1 - cos(map, activation_cam's map) on the ok rows")
        if "cop" in values:
            column = values["cop"][ok]
            checks.expect(np.isfinite(column).all() and (column == np.round(column)).all() and
                          column.min(initial=0) >= 0 and column.max(initial=0) <= 100,
                          f"/{group}/cop: ok rows are not channel counts in [0, 100]")


def report_failures(path, checks, summary=""):
    for failure in checks.failures:
        print(f"FAIL: {path}: {failure}", file=sys.stderr)
    if checks.failures:
        print(f"{len(checks.failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"OK: {path}: {summary}")
    return 0


# ---- export and reload -------------------------------------------------------------------------------------------

def png_name(row_id):
    return re.sub(r"[^A-Za-z0-9_]", "_", row_id) + ".png"


def export_rows(args):
    """Writes up to --rows ok rows' AE2s (first rows of different AE2s first) as PNGs and a list CSV labelled with
    each row's target, and rows.json (PNG -> row id)."""
    from PIL import Image
    with h5py.File(args.file, "r") as results:
        ids = results["items/id"].asstr()[()]
        status, target = results["items/status"][()], results["items/target"][()]
        index, images = results["adversarial/image_index"][()], results["adversarial/image"]
        ok_rows = [r for r in range(len(ids)) if status[r] == STATUS_OK]
        chosen, seen = [], set()
        for r in ok_rows + ok_rows:  # one row per AE2 first, then more rows of the same AE2s
            if len(chosen) == args.rows:
                break
            if r not in chosen and (index[r] not in seen or len(seen) == len(set(index[ok_rows]))):
                chosen.append(r)
                seen.add(index[r])
        if not chosen:
            print(f"FAIL: {args.file}: no ok row to export", file=sys.stderr)
            return 1
        os.makedirs(args.out, exist_ok=True)
        rows = {}
        with open(os.path.join(args.out, "list.csv"), "w") as csv:
            csv.write("path,label\n")
            for r in chosen:
                name = png_name(ids[r])
                Image.fromarray(images[index[r]]).save(os.path.join(args.out, name))  # lossless 8-bit RGB
                csv.write(f"{name},{target[r]}\n")
                rows[name] = ids[r]
    with open(os.path.join(args.out, "rows.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"exported {len(rows)} row(s) to {args.out}: {', '.join(rows.values())}")
    return 0


def compare_reload(args):
    """The natural run on the reloaded PNGs explains each row as the dap2 file did: same input bits, so the same
    target, target probability and maps (within 1e-5: batch composition may change float results slightly)."""
    checks = check_results.Checks()
    with open(args.rows_json) as f:
        rows = json.load(f)
    with h5py.File(args.file, "r") as dap, h5py.File(args.reloaded, "r") as natural:
        dap_ids = list(dap["items/id"].asstr()[()])
        natural_ids = list(natural["items/id"].asstr()[()])
        checks.expect(natural.attrs.get("task") == "natural", f"the reloaded run's task is {natural.attrs.get('task')}")
        checks.expect(sorted(natural_ids) == sorted(rows), f"reloaded items {natural_ids}, expected {sorted(rows)}")
        for name, row_id in rows.items():
            if name not in natural_ids:
                continue
            a, b = dap_ids.index(row_id), natural_ids.index(name)
            what = f"{name} (dap2 row {row_id})"
            checks.expect(natural["items/status"][b] == STATUS_OK, f"{what}: status {natural['items/status'][b]}")
            # (The dap2 file's top1 is the zero canvas's prediction, not the AE2's: not compared.)
            checks.expect(dap["items/target"][a] == natural["items/target"][b],
                          f"{what}: target {natural['items/target'][b]}, dap2 {dap['items/target'][a]}")
            x, y = dap["items/target_prob"][a], natural["items/target_prob"][b]
            checks.expect(abs(x - y) <= 1e-5, f"{what}: target_prob {y}, dap2 {x}")
            for method in args.methods:
                x, y = dap[f"maps/{method}"][a], natural[f"maps/{method}"][b]
                difference = float(np.abs(x - y).max())
                checks.expect(difference <= 1e-5, f"{what}: maps/{method} differ by up to {difference}")
    return report_failures(args.reloaded, checks, f"{len(rows)} reloaded AE2(s) explained as in {args.file}")


# ---- report ------------------------------------------------------------------------------------------------------

def check_report(args):
    """`pixab report` on the files prints every --expect text, and each dap file's attack success rate matches it."""
    done = subprocess.run([args.pixab, "report"] + args.files, capture_output=True, text=True, timeout=120)
    text = done.stdout
    checks = check_results.Checks()
    checks.expect(done.returncode == 0, f"pixab report exited {done.returncode}: {done.stderr[-2000:]}")
    for expected in args.expect:
        checks.expect(expected in text, f"the report lacks {expected!r}")
    for path in args.files:
        with h5py.File(path, "r") as results:
            if results.attrs.get("task") not in ("dap1", "dap2"):
                continue
            status = results["items/status"][()]
            ok, total = int((status == STATUS_OK).sum()), len(status)
        line = next((line for line in text.splitlines() if f"| {path} |" in line), "")
        found = re.search(r"attack success: ([0-9.]+)% \((\d+) of (\d+)\)", line)
        checks.expect(found and (int(found.group(2)), int(found.group(3))) == (ok, total) and
                      abs(float(found.group(1)) - 100.0 * ok / total) < 0.05,
                      f"{path}: the report's attack success {found.group(0) if found else None!r}, expected "
                      f"{ok} of {total}")
    if checks.failures:
        print(text)
    return report_failures(" ".join(args.files), checks, f"report with {', '.join(args.expect)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check")
    check.add_argument("file")
    check.add_argument("--task", choices=("dap1", "dap2"), required=True)
    check.add_argument("--sources", type=int, required=True, help="source items M (images, or AE2s)")
    check.add_argument("--methods", type=comma_list, required=True)
    check.add_argument("--cop-methods", type=comma_list, default=[], help="dap2: the methods with a cop column")
    check.add_argument("--map-shape", type=check_results.pair, default=(8, 8))
    check.add_argument("--input-size", type=check_results.pair, default=(64, 64), metavar="H,W")
    check.add_argument("--classes", type=int, default=10)
    check.add_argument("--kmin", type=int)
    check.add_argument("--kmax", type=int, default=9)
    check.add_argument("--size-min", type=float, default=0.15)
    check.add_argument("--size-max", type=float, default=0.20)
    check.add_argument("--confidence", type=float, default=0.9)
    check.add_argument("--max-iters", type=int, default=200)
    check.add_argument("--source-dir", default=".", help="what relative /items/source paths are relative to")
    export = commands.add_parser("export")
    export.add_argument("file")
    export.add_argument("--out", required=True)
    export.add_argument("--rows", type=int, default=3)
    reload = commands.add_parser("reload")
    reload.add_argument("file")
    reload.add_argument("reloaded")
    reload.add_argument("--rows-json", required=True)
    reload.add_argument("--methods", type=comma_list, required=True)
    report = commands.add_parser("report")
    report.add_argument("files", nargs="+")
    report.add_argument("--pixab", required=True)
    report.add_argument("--expect", action="append", default=[])
    args = parser.parse_args()
    if args.command == "check":
        if args.kmin is None:
            args.kmin = 1 if args.task == "dap1" else 2
        return check_adversarial(args)
    return {"export": export_rows, "reload": compare_reload, "report": check_report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
