#!/usr/bin/python3
"""Checks figures written by `pixab explain` / `pixab render`: PNG files of the expected size, read from the header.

Usage: check_png.py --width W --height H [--count N] PATH   (PATH: one PNG, or a folder whose *.png are checked)
Exit status: 0 when every check passes, 1 when any fails (each failure printed), 2 for a bad command line.
"""

import argparse
import pathlib
import struct
import sys

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the IHDR chunk, which the PNG standard puts first, right after the signature."""
    header = path.read_bytes()[:24]
    if len(header) < 24 or header[:8] != PNG_SIGNATURE or header[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", header[16:24])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=pathlib.Path)
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--count", type=int, help="number of PNG files expected in the folder")
    args = parser.parse_args()

    files = sorted(args.path.glob("*.png")) if args.path.is_dir() else [args.path]
    failures = []
    if args.count is not None and len(files) != args.count:
        failures.append(f"{args.path}: {len(files)} PNG files, expected {args.count}")
    for file in files:
        if not file.is_file():
            failures.append(f"{file}: missing")
            continue
        size = png_size(file)
        if size != (args.width, args.height):
            failures.append(f"{file}: size {size}, expected {(args.width, args.height)}")
    for failure in failures:
        print(failure)
    print(f"checked {len(files)} PNG file(s): {'ok' if not failures else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
