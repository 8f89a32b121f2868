#!/usr/bin/python3
"""Checks export_model.py --wnids: a synset list in LOC_synset_mapping.txt's format ends up as the model's wnids;
a list of the wrong length or out of ImageNet's (sorted) order is refused before any export work; pixab finds a class
by its synset id.

Usage: check_export_wnids.py PIXAB IMAGE WORK_DIR
"""

import json
import os
import subprocess
import sys

import torch

EXPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "export_model.py")


def write_mapping(path, wnids):
    with open(path, "w", encoding="utf-8") as file:
        file.writelines(f"{wnid} class number {i}, a name\n" for i, wnid in enumerate(wnids))


def export(work, mapping):
    return subprocess.run([sys.executable, EXPORT, "--arch", "resnet50", "--weights", "none", "--wnids", mapping,
                           "--out", os.path.join(work, "resnet50-wnids.pt")], capture_output=True, text=True)


def expect_refusal(work, name, wnids, message):
    mapping = os.path.join(work, name)
    write_mapping(mapping, wnids)
    result = export(work, mapping)
    if result.returncode != 1 or message not in result.stderr:
        sys.exit(f"{name}: expected exit 1 with '{message}', got {result.returncode}: {result.stderr}")


def main():
    pixab, image, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    # Made-up ids in the real format; sorted, as ImageNet's class order is.
    wnids = [f"n{number:08d}" for number in range(1440764, 1441764)]

    expect_refusal(work, "short.txt", wnids[:3], "expected 1000 lines starting with a synset id")
    expect_refusal(work, "unsorted.txt", wnids[1:] + wnids[:1], "not in ImageNet's (sorted) class order")

    mapping = os.path.join(work, "LOC_synset_mapping.txt")
    write_mapping(mapping, wnids)
    result = export(work, mapping)
    if result.returncode != 0:
        sys.exit(f"export with --wnids failed: {result.stderr}")
    model = os.path.join(work, "resnet50-wnids.pt")
    extra = {"pixab.json": ""}
    torch.jit.load(model, _extra_files=extra)
    stored = json.loads(extra["pixab.json"]).get("wnids")
    if stored != wnids:
        sys.exit(f"pixab.json wnids: expected the 1000 ids of the file, got {stored if stored is None else len(stored)}")

    # Class 7 by its synset id; its label is the generic name of random weights.
    result = subprocess.run([pixab, "explain", "--model", model, "--image", image, "--target", wnids[7],
                             "--methods", "grad_cam", "--out", os.path.join(work, "wnid-target.png")],
                            capture_output=True, text=True)
    os.remove(model)
    if result.returncode != 0 or "target class_7 " not in result.stdout + result.stderr:
        sys.exit(f"pixab explain --target {wnids[7]}: expected target class_7, got {result.returncode}: "
                 f"{result.stdout}{result.stderr}")
    print("wnids stored and used by pixab; short and unsorted lists refused")


if __name__ == "__main__":
    main()
