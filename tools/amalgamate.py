#!/usr/bin/env python3
"""Generate berth's single header.

Starting from include/berth/berth.hpp, every include of one of berth's own headers (quoted, or <berth/...>) is
replaced by that header's text, each header once, in the order a compiler would first see it. Includes of anything
else (<toml++/toml.h>, <asio.hpp>, the standard library) stay includes. The result is written to
single_include/berth/berth.hpp, which is committed; a CTest test regenerates it and fails when the committed copy
is stale.

    python3 tools/amalgamate.py                       # regenerate single_include/berth/berth.hpp
    python3 tools/amalgamate.py --output X --compare-with single_include/berth/berth.hpp

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CONDITIONAL_OPEN_RE = re.compile(r"^\s*#\s*if(n?def)?\b")
CONDITIONAL_BRANCH_RE = re.compile(r"^\s*#\s*(elif|else)\b")
CONDITIONAL_CLOSE_RE = re.compile(r"^\s*#\s*endif\b")
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
DIRECTIVE_RE = re.compile(r"^\s*#\s*(\w+)\s*(\w*)")


class AmalgamationError(Exception):
    pass


def include_guard_depth(lines: list[str]) -> int:
    """1 when the file is wrapped in a classic `#ifndef X` / `#define X` guard, else 0.

    The guard's #ifndef is not a real condition on the includes inside it.
    """
    directives = [m for m in (DIRECTIVE_RE.match(line) for line in lines) if m]
    if len(directives) >= 2 and directives[0].group(1) == "ifndef" and directives[1].group(1) == "define":
        return 1 if directives[0].group(2) and directives[0].group(2) == directives[1].group(2) else 0
    return 0


class Amalgamator:
    def __init__(self, include_root: Path) -> None:
        self.include_root = include_root.resolve()
        self.berth_root = self.include_root / "berth"
        # header -> (where it was first included, the preprocessor branches that include sat in)
        self.inlined: dict[Path, tuple[str, tuple[str, ...]]] = {}

    def display_name(self, header: Path) -> str:
        return header.relative_to(self.include_root).as_posix()

    def resolve(self, including_file: Path, delimiter: str, name: str) -> Path | None:
        """The berth header an include names, or None when it names something else."""
        candidates = []
        if delimiter == '"':
            candidates.append(including_file.parent / name)
        candidates.append(self.include_root / name)
        for candidate in candidates:
            candidate = candidate.resolve()
            if candidate.is_file() and self.berth_root in candidate.parents:
                return candidate
        if name.startswith("berth/"):
            # Kept as an include, so the single header fails exactly where the separate headers would.
            print(f"amalgamate.py: warning: {self.display_name(including_file)} includes {name}, which does not "
                  "exist; the include is kept as it is", file=sys.stderr)
        return None

    def expand(self, header: Path, outer_branches: tuple[str, ...]) -> list[str]:
        """The text of `header` with berth's headers inlined.

        `outer_branches` names the #if/#elif/#else branches (as "file:line") the include of `header` sits in.
        """
        lines = header.read_text(encoding="utf-8").splitlines()
        guard = include_guard_depth(lines)  # a classic include guard's #ifndef is not a condition on the content
        open_branches: list[str] = []
        out = [f"// ---- {self.display_name(header)} ----"]
        for number, line in enumerate(lines, start=1):
            if PRAGMA_ONCE_RE.match(line):
                continue
            here = f"{self.display_name(header)}:{number}"
            if CONDITIONAL_OPEN_RE.match(line):
                open_branches.append(here)
            elif CONDITIONAL_BRANCH_RE.match(line) and open_branches:
                open_branches[-1] = here
            elif CONDITIONAL_CLOSE_RE.match(line) and open_branches:
                open_branches.pop()
            match = INCLUDE_RE.match(line)
            target = self.resolve(header, match.group(1), match.group(2)) if match else None
            if target is None:
                out.append(line)
                continue
            branches = outer_branches + tuple(open_branches[guard:])
            if target in self.inlined:
                first_site, first_branches = self.inlined[target]
                # The single file holds each header once, at its first include. A later include finds that copy
                # only if it sits inside every branch the copy sits in; otherwise the copy could be compiled out
                # where the separate headers would not be.
                if branches[:len(first_branches)] != first_branches:
                    raise AmalgamationError(
                        f"{self.display_name(target)} is first included at {first_site} inside the preprocessor "
                        f"branch(es) {', '.join(first_branches)}, and again at {here} outside them; include it "
                        "where both can see it first")
                continue
            self.inlined[target] = (here, branches)
            out.extend(self.expand(target, branches))
        return out

    def run(self, entry: Path) -> str:
        entry = entry.resolve()
        self.inlined[entry] = ("the entry point", ())
        body = self.expand(entry, ())
        preamble = [
            f"// berth single header, generated by tools/amalgamate.py from include/{self.display_name(entry)}.",
            "// Do not edit: change the headers under include/berth/ and run `python3 tools/amalgamate.py`.",
            "#pragma once",
            "",
        ]
        return "\n".join(preamble + body) + "\n"


def compare(generated: str, committed_path: Path) -> int:
    if not committed_path.is_file():
        print(f"{committed_path} does not exist: run `python3 tools/amalgamate.py` and commit the result",
              file=sys.stderr)
        return 1
    committed = committed_path.read_text(encoding="utf-8")
    if committed == generated:
        print(f"{committed_path} is up to date")
        return 0
    diff = list(difflib.unified_diff(committed.splitlines(), generated.splitlines(),
                                     fromfile=f"{committed_path} (committed)", tofile="regenerated", lineterm=""))
    shown = diff[:200]
    print("\n".join(shown), file=sys.stderr)
    if len(diff) > len(shown):
        print(f"... {len(diff) - len(shown)} more diff lines", file=sys.stderr)
    print(f"{committed_path} is stale: run `python3 tools/amalgamate.py` and commit the result", file=sys.stderr)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--include-dir", type=Path, default=REPO_ROOT / "include",
                        help="the folder holding berth/ (default: include/ of this repository)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "single_include" / "berth" / "berth.hpp",
                        help="where to write the single header (default: single_include/berth/berth.hpp)")
    parser.add_argument("--compare-with", type=Path,
                        help="after writing, fail with a diff unless this file has the same content")
    args = parser.parse_args()

    entry = args.include_dir / "berth" / "berth.hpp"
    if not entry.is_file():
        print(f"{entry} does not exist", file=sys.stderr)
        return 1
    try:
        generated = Amalgamator(args.include_dir).run(entry)
    except AmalgamationError as error:
        print(f"amalgamate.py: {error}", file=sys.stderr)
        return 1

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(generated, encoding="utf-8", newline="\n")
    if args.compare_with is not None:
        return compare(generated, args.compare_with)
    return 0


if __name__ == "__main__":
    sys.exit(main())
