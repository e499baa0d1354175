#!/usr/bin/env python3
"""Run berth's conformance cases against any implementation of the SPEC §6 adapter contract.

The implementation is a command that reads one configuration file (TOML or JSON), prints the
resolved-listener document on standard output and exits 0 (valid) or 1 (invalid). Each case is an
input file plus `<name>.expect.json`; see docs/conformance.md for the format.

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shlex
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

EXPECT_SUFFIX = ".expect.json"
INPUT_SUFFIXES = (".toml", ".json")
REQUIRED_KEYS = {"checks", "valid"}
OPTIONAL_KEYS = {"listeners", "exactListeners", "errors", "warnings", "noWarnings", "codes", "env"}
STDERR_LINES_SHOWN = 8
# After a timeout the process group is killed; a grandchild that left the group could keep the
# pipes open, so reading what is left gets its own short deadline.
DRAIN_SECONDS = 5.0


@dataclass
class Case:
    name: str                 # relative to the cases folder, without extension: "grammar/duration-minutes"
    input_path: Path | None
    expect_path: Path | None


@dataclass
class Outcome:
    name: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------------------------
# discovery


def discover(cases_dir: Path) -> list[Case]:
    """Every case under cases_dir, pairing inputs with expectations; unpaired files are cases too
    (they fail), so a forgotten expect file cannot silently shrink the suite."""
    inputs: dict[str, list[Path]] = {}
    expects: dict[str, Path] = {}
    for path in sorted(cases_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(cases_dir).as_posix()
        if rel.endswith(EXPECT_SUFFIX):
            expects[rel[: -len(EXPECT_SUFFIX)]] = path
        elif rel.endswith(INPUT_SUFFIXES):
            inputs.setdefault(rel.rsplit(".", 1)[0], []).append(path)
    cases = []
    for name in sorted(set(inputs) | set(expects)):
        found = inputs.get(name, [])
        cases.append(Case(name, found[0] if len(found) == 1 else None, expects.get(name)))
    return cases


def pairing_problems(case: Case, cases_dir: Path) -> list[str]:
    if case.expect_path is None:
        return [f"no {case.name}{EXPECT_SUFFIX} next to the input"]
    if case.input_path is None:
        candidates = [f"{case.name}{s}" for s in INPUT_SUFFIXES if (cases_dir / f"{case.name}{s}").exists()]
        if candidates:
            return [f"more than one input for one expectation: {', '.join(candidates)}"]
        return [f"no input {case.name}.toml or {case.name}.json next to the expectation"]
    return []


# ---------------------------------------------------------------------------------------------
# the expectation file


def is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load_expectation(path: Path) -> tuple[dict | None, list[str]]:
    try:
        expect = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, [f"malformed case: {path.name} is not readable JSON ({e})"]
    if not isinstance(expect, dict):
        return None, [f"malformed case: {path.name} must hold a JSON object"]
    problems = []
    for key in REQUIRED_KEYS - expect.keys():
        problems.append(f"malformed case: required key {key!r} is missing")
    for key in sorted(expect.keys() - REQUIRED_KEYS - OPTIONAL_KEYS):
        problems.append(f"malformed case: unknown key {key!r}")
    if "checks" in expect and not (isinstance(expect["checks"], str) and expect["checks"].strip()):
        problems.append("malformed case: 'checks' must name the sentence or SPEC section checked")
    if "valid" in expect and not isinstance(expect["valid"], bool):
        problems.append("malformed case: 'valid' must be true or false")
    listeners = expect.get("listeners", {})
    if not (isinstance(listeners, dict) and all(isinstance(v, dict) for v in listeners.values())):
        problems.append("malformed case: 'listeners' must map listener names to objects of fields")
    if "exactListeners" in expect and not isinstance(expect["exactListeners"], bool):
        problems.append("malformed case: 'exactListeners' must be true or false")
    if expect.get("exactListeners") and "listeners" not in expect:
        problems.append("malformed case: 'exactListeners' needs 'listeners'")
    for key in ("errors", "warnings", "noWarnings"):
        if key in expect and not is_str_list(expect[key]):
            problems.append(f"malformed case: {key!r} must be a list of paths")
    codes = expect.get("codes", {})
    if not (isinstance(codes, dict) and all(isinstance(v, str) for v in codes.values())):
        problems.append("malformed case: 'codes' must map paths to codes")
    env = expect.get("env", {})
    if not (isinstance(env, dict) and all(v is None or isinstance(v, str) for v in env.values())):
        problems.append("malformed case: 'env' must map names to strings (or null to unset)")
    if expect.get("valid") is True and expect.get("errors"):
        problems.append("malformed case: a valid case cannot expect errors")
    if expect.get("valid") is False and not expect.get("errors"):
        problems.append("malformed case: an invalid case must name at least one error path")
    return (None if problems else expect), problems


# ---------------------------------------------------------------------------------------------
# running the implementation


@dataclass
class Run:
    status: int | None        # exit status; None after a timeout; negative when killed by a signal
    stdout: str
    stderr: str
    timed_out: bool = False


def run_implementation(template: str, input_path: Path, env_changes: dict, timeout: float) -> Run:
    command = template.replace("{file}", shlex.quote(str(input_path)))
    env = dict(os.environ)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return Run(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = proc.communicate(timeout=DRAIN_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = b"", b""
        return Run(None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), timed_out=True)


# ---------------------------------------------------------------------------------------------
# comparing


def same_json(a, b) -> bool:
    """JSON equality: true is not 1, 1 equals 1.0, lists keep their order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def describe_status(status: int | None) -> str:
    if status is None:
        return "none"
    if status < 0:
        return f"killed by signal {-status}"
    meaning = {0: "valid", 1: "invalid"}.get(status, "neither 0 nor 1")
    return f"{status} ({meaning})"


def document_shape_problems(doc) -> list[str]:
    if not isinstance(doc, dict):
        return ["stdout is JSON but not an object with 'listeners' and 'diagnostics'"]
    problems = []
    listeners = doc.get("listeners")
    if not isinstance(listeners, list) or not all(isinstance(l, dict) and isinstance(l.get("name"), str)
                                                  for l in listeners):
        problems.append("'listeners' must be an array of objects, each with a string 'name'")
    diagnostics = doc.get("diagnostics")
    if not isinstance(diagnostics, list) or not all(
            isinstance(d, dict) and isinstance(d.get("severity"), str) and isinstance(d.get("path"), str)
            for d in diagnostics):
        problems.append("'diagnostics' must be an array of objects, each with string 'severity' and 'path'")
    return problems


def format_diagnostic(d: dict) -> str:
    parts = [f"{d.get('severity', '?'):<8}", show(d.get("path"))]
    if d.get("code"):
        parts.append(str(d["code"]))
    if d.get("message"):
        parts.append(f"- {d['message']}")
    return " ".join(parts)


def list_diagnostics(diagnostics: list[dict], header: str) -> list[str]:
    if not diagnostics:
        return [f"{header}: none"]
    return [f"{header}:"] + [f"    {format_diagnostic(d)}" for d in diagnostics]


def paths_named(diagnostics: list[dict], severity: str) -> set[str]:
    return {d["path"] for d in diagnostics if d["severity"] == severity}


def names_path(diagnostic_path: str, path: str) -> bool:
    """A diagnostic names a path when it is that path or lies under it (`storage` covers `storage.data`)."""
    if diagnostic_path == path:
        return True
    return diagnostic_path.startswith(path) and diagnostic_path[len(path)] in ".[/"


def read_document(expect: dict, run: Run) -> tuple[dict | None, list[str]]:
    """The §6 document on stdout, and the problems with the run itself (status, timeout, shape)."""
    if run.timed_out:
        return None, ["timed out: no exit within the --timeout deadline"] + stderr_tail(run.stderr)
    problems = []
    expected_status = 0 if expect["valid"] else 1
    if run.status != expected_status:
        problems.append(f"exit status: expected {describe_status(expected_status)}, "
                        f"got {describe_status(run.status)}")
    try:
        doc = json.loads(run.stdout)
    except json.JSONDecodeError as e:
        excerpt = run.stdout.strip().splitlines()[:3]
        problems.append(f"stdout is not one JSON document ({e.msg} at line {e.lineno}, column {e.colno})"
                        + (f"; it begins: {show(chr(10).join(excerpt))[:200]}" if excerpt else "; it is empty"))
        return None, problems + stderr_tail(run.stderr)
    shape = document_shape_problems(doc)
    if shape:
        return None, problems + [f"stdout is not a §6 document: {p}" for p in shape] + stderr_tail(run.stderr)
    if problems:
        problems += stderr_tail(run.stderr)
    return doc, problems


def listener_problems(expect: dict, reported: list[dict]) -> list[str]:
    problems = []
    actual = {}
    for listener in reported:
        actual.setdefault(listener["name"], listener)
    for name, fields in expect.get("listeners", {}).items():
        if name not in actual:
            names = ", ".join(show(n) for n in sorted(actual)) or "none"
            problems.append(f"listener {show(name)}: missing (listeners reported: {names})")
            continue
        for field_name, expected_value in fields.items():
            if field_name not in actual[name]:
                problems.append(f"listener {show(name)} {field_name}: expected {show(expected_value)}, "
                                f"but the field is absent")
            elif not same_json(expected_value, actual[name][field_name]):
                problems.append(f"listener {show(name)} {field_name}: expected {show(expected_value)}, "
                                f"got {show(actual[name][field_name])}")
    if expect.get("exactListeners"):  # missing names are reported above, one line each
        unexpected = sorted(set(actual) - set(expect["listeners"]))
        if unexpected:
            problems.append(f"unexpected listeners {', '.join(show(n) for n in unexpected)} "
                            f"(expected exactly {show(sorted(expect['listeners']))})")
    return problems


def diagnostic_problems(expect: dict, diagnostics: list[dict], check_warnings: bool, check_codes: bool) -> list[str]:
    problems = []
    error_paths = paths_named(diagnostics, "error")
    problems += [f"missing error at {show(p)}" for p in expect.get("errors", []) if p not in error_paths]
    if expect["valid"]:
        problems += [f"unexpected error for a valid configuration: {format_diagnostic(d)}"
                     for d in diagnostics if d["severity"] == "error"]
    if check_warnings:
        warning_paths = paths_named(diagnostics, "warning")
        problems += [f"missing warning at {show(p)}" for p in expect.get("warnings", []) if p not in warning_paths]
        problems += [f"unexpected warning under {show(p)}: {format_diagnostic(d)}"
                     for p in expect.get("noWarnings", []) for d in diagnostics
                     if d["severity"] == "warning" and names_path(d["path"], p)]
    if check_codes:
        for path, code in expect.get("codes", {}).items():
            codes_there = sorted({str(d.get("code")) for d in diagnostics if d["path"] == path})
            if code not in codes_there:
                found = ", ".join(codes_there) if codes_there else "no diagnostic at that path"
                problems.append(f"code at {show(path)}: expected {code}, got {found}")
    return problems


def compare(expect: dict, run: Run, check_warnings: bool, check_codes: bool) -> list[str]:
    doc, problems = read_document(expect, run)
    if doc is None:
        return problems
    problems += listener_problems(expect, doc["listeners"])
    problems += diagnostic_problems(expect, doc["diagnostics"], check_warnings, check_codes)
    # When something expected is absent, what the implementation did report usually says why.
    if any(p.startswith(("missing ", "code at ")) or ": missing (" in p for p in problems):
        problems += list_diagnostics(doc["diagnostics"], "diagnostics reported")
    return problems


def stderr_tail(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    if not lines:
        return []
    shown = lines[-STDERR_LINES_SHOWN:]
    header = "stderr" if len(shown) == len(lines) else f"stderr (last {len(shown)} of {len(lines)} lines)"
    return [f"{header}:"] + [f"    {line}" for line in shown]


# ---------------------------------------------------------------------------------------------
# main


def run_case(case: Case, args, cases_dir: Path) -> Outcome:
    outcome = Outcome(case.name, pairing_problems(case, cases_dir))
    if outcome.problems:
        return outcome
    expect, problems = load_expectation(case.expect_path)
    if expect is None:
        outcome.problems = problems
        return outcome
    run = run_implementation(args.impl, case.input_path.resolve(), expect.get("env", {}), args.timeout)
    problems = compare(expect, run, args.check_warnings, args.check_codes)
    if problems:
        try:
            shown_input = case.input_path.resolve().relative_to(Path.cwd())
        except ValueError:
            shown_input = case.input_path
        outcome.problems = [f"checks: {expect['checks']}", f"input:  {shown_input}"] + problems
    return outcome


def report(outcome: Outcome, passed: int, failed: int) -> tuple[int, int]:
    if outcome.passed:
        print(f"PASS {outcome.name}", flush=True)
        return passed + 1, failed
    print(f"FAIL {outcome.name}")
    for line in outcome.problems:
        print(f"    {line}")
    sys.stdout.flush()
    return passed, failed + 1



def parse_args(argv):
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(
        description="Run berth's conformance cases against an implementation of the SPEC §6 adapter contract.")
    parser.add_argument("--impl", required=True,
                        help="the command to run, with {file} where the input path goes (shell-quoted), "
                             "e.g. 'build/tools/berth resolve {file}'")
    parser.add_argument("--cases", type=Path, default=here / "cases", help="the cases folder (default: %(default)s)")
    parser.add_argument("--filter", action="append", default=[], metavar="GLOB",
                        help="run only cases whose relative name matches, e.g. 'grammar/socket-addr-*' "
                             "(repeatable: any match)")
    parser.add_argument("--check-warnings", action="store_true",
                        help="also check 'warnings' and 'noWarnings' (warnings are optional in §6)")
    parser.add_argument("--check-codes", action="store_true",
                        help="also check berth's diagnostic codes ('codes')")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="deadline for each run (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="cases run at the same time; output keeps case order (default: %(default)s)")
    args = parser.parse_args(argv)
    if "{file}" not in args.impl:
        parser.error("--impl must contain {file}, where the input path goes")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.cases.is_dir():
        parser.error(f"--cases {args.cases} is not a folder")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cases = [c for c in discover(args.cases)
             if not args.filter or any(fnmatch.fnmatchcase(c.name, g) for g in args.filter)]
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # results come back in case order
        outcomes = pool.map(lambda c: run_case(c, args, args.cases), cases)
        for outcome in outcomes:
            passed, failed = report(outcome, passed, failed)
    if not cases:
        print("no case matched", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    if not cases:
        return 2
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
