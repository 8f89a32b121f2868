#!/usr/bin/env python3
"""The README's table of configuration keys and `pixab run --help` name the same keys: a key added to the
command line without its README row, or a README row for a key that no longer exists, fails this test."""
import argparse
import re
import subprocess
import sys


def help_keys(pixab):
    """The run subcommand's options, as config keys (--dataset.root is dataset.root)."""
    text = subprocess.run([pixab, "run", "--help"], capture_output=True, text=True, check=True).stdout
    keys = set(re.findall(r"^\s+(?:-\w, )?--([a-z_][a-z_.]*)", text, re.MULTILINE))
    return keys - {"help", "config"}


def readme_keys(readme):
    """The first cell of every row of the table after the README's **Configuration** bullet."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start = text.index("- **Configuration**")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("- **"):
            break
        if line.startswith("| `"):
            rows.append(line.split("|")[1])
    return {key for cell in rows for key in re.findall(r"`([a-z_][a-z_.]*)`", cell)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixab", required=True)
    parser.add_argument("--readme", required=True)
    args = parser.parse_args()
    in_help, in_readme = help_keys(args.pixab), readme_keys(args.readme)
    if not in_help:
        print("FAIL: no options found in `pixab run --help`")
        return 1
    missing, stale = sorted(in_help - in_readme), sorted(in_readme - in_help)
    for key in missing:
        print(f"FAIL: `pixab run --help` has --{key}, the README's key table has no row for it")
    for key in stale:
        print(f"FAIL: the README's key table names {key}, which `pixab run --help` does not have")
    if missing or stale:
        return 1
    print(f"OK: the README's key table and `pixab run --help` both name the same {len(in_help)} keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
