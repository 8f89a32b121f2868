#!/bin/sh
# Runs a command and checks its exit code and that its output (stdout + stderr) matches an extended regex.
# Usage: expect_exit.sh CODE REGEX COMMAND [ARGS...]
expected_code=$1
pattern=$2
shift 2
output=$("$@" 2>&1)
code=$?
printf '%s\n' "$output"
if [ "$code" -ne "$expected_code" ]; then
  echo "expect_exit: exit code $code, expected $expected_code" >&2
  exit 1
fi
if ! printf '%s\n' "$output" | grep -Eq -- "$pattern"; then
  echo "expect_exit: output does not match /$pattern/" >&2
  exit 1
fi
