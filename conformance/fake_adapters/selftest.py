#!/usr/bin/env python3
"""Tests of conformance/run.py, through the fake implementations beside this file.

- spec_sketch.py (an independent reading of the SPEC) passes every case: the cases agree with
  each other and with a second reading of the documents;
- empty_valid.py fails every case;
- misresolve_backlog.py fails only cases that involve server.socket.backlog, with a one-line diff;
- a hanging command, garbage on stdout and a wrong exit status are failures with a reason.

usage: selftest.py [--jobs N]     exit 0 when every check holds (takes about two minutes)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent / "run.py"
CASES = HERE.parent / "cases"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")

failures: list[str] = []


def check(condition: bool, what: str):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def run(impl: str, *extra: str) -> tuple[int, list[str]]:
    result = subprocess.run([sys.executable, str(RUNNER), "--impl", impl, *extra], capture_output=True, text=True,
                            timeout=900)
    return result.returncode, result.stdout.splitlines()


def summary(lines: list[str]) -> tuple[int, int]:
    m = SUMMARY.match(lines[-1]) if lines else None
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


def failed_blocks(lines: list[str]) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current = None
    for line in lines[:-1]:
        if line.startswith("FAIL "):
            current = line[5:]
            blocks[current] = []
        elif line.startswith("PASS "):
            current = None
        elif current is not None:
            blocks[current].append(line.strip())
    return blocks


def adapter(name: str) -> str:
    return f"{sys.executable} {HERE / name} {{file}}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", default="2")
    jobs = ["--jobs", parser.parse_args().jobs]
    total = len(list(CASES.rglob("*.expect.json")))

    status, lines = run(adapter("spec_sketch.py"), "--check-warnings", "--check-codes", *jobs)
    check(status == 0 and summary(lines) == (total, 0),
          f"spec_sketch passes all {total} cases with warnings and codes checked (got {lines[-1:]})")

    status, lines = run(adapter("empty_valid.py"), "--check-warnings", "--check-codes", *jobs)
    check(status == 1 and summary(lines) == (0, total), f"empty_valid fails all {total} cases (got {lines[-1:]})")
    blocks = failed_blocks(lines)
    check(all(any(p.startswith(("listener ", "exit status:", "missing ")) for p in b) for b in blocks.values()),
          "every failure of empty_valid says which listener, status or error is missing")

    status, lines = run(adapter("misresolve_backlog.py"), "--check-warnings", "--check-codes", *jobs)
    blocks = failed_blocks(lines)
    check(status == 1 and 0 < len(blocks) < 12, f"misresolve_backlog fails a handful of cases (got {len(blocks)})")
    check(blocks.get("fallback/socket-backlog-server-used", [])[-1:] ==
          ['listener "smtp" socketBacklog: expected 512, got 1024'],
          "the broken field shows as one line: expected value, actual value")
    check(all(any("socketBacklog" in p or "server.socket.backlog" in p for p in b) for b in blocks.values()),
          "misresolve_backlog fails only through socketBacklog")

    status, lines = run("sleep 30 # {file}", "--filter", "docs/example", "--timeout", "1")
    check(status == 1 and any("timed out" in l for l in lines), "a hanging implementation is a failure: timed out")
    status, lines = run("echo garbage # {file}", "--filter", "docs/example")
    check(status == 1 and any("stdout is not one JSON document" in l for l in lines),
          "garbage on stdout is a failure that says so")
    status, lines = run('echo \'{"listeners": [], "diagnostics": []}\'; exit 2 # {file}', "--filter",
                        "docs/bind-multiple-missing-port")
    check(status == 1 and any("exit status: expected 1 (invalid), got 2 (neither 0 nor 1)" in l for l in lines),
          "a wrong exit status is a failure that shows both")
    status, lines = run("true {file}", "--filter", "no-such-group/*")
    check(status == 2 and lines == ["0 passed, 0 failed"], "a filter that matches nothing exits 2")

    print(f"{'all checks hold' if not failures else str(len(failures)) + ' check(s) failed'}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
