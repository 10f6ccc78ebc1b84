"""``engine validate PATH...``: check rule and machine files, report every error.

Folders are searched for ``*.yaml`` / ``*.yml``; a folder without any is an error (a
typo in the path must not pass as "nothing wrong"). A file with a top-level ``states`` key
is a machine, any other a rule file. Prints ``ok`` per good file, every diagnostic of a
bad one, and exits 2 when any file has an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="rule or machine files, folders")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems")


def _files(paths: list[str]) -> list[tuple[Path, str]]:
    from engine.diagnostics import Diagnostic
    from engine.errors import SpecError

    out: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
            if not found:
                raise SpecError(
                    [
                        Diagnostic(
                            raw,
                            1,
                            1,
                            "no-files",
                            "the folder holds no rule or machine file (*.yaml, *.yml)",
                            hint="name a rule or machine file, or the folder that holds them",
                        )
                    ]
                )
            out.extend((f, str(f)) for f in found)
        elif p.exists():
            out.append((p, raw))
        else:
            raise SpecError([Diagnostic(raw, 1, 1, "no-such-file", "no such file or folder")])
    return out


def check_file(path: Path, display: str) -> tuple[list, list]:  # type: ignore[type-arg]
    """(errors, warnings) of one file, as Diagnostics."""
    from engine.errors import SpecError
    from engine.spec._yaml import load_yaml_file
    from engine.spec.rules import load_rule_document

    try:
        doc = load_yaml_file(path, display)
        if isinstance(doc.data, dict) and "states" in doc.data:
            from engine.machines import load_machine_file

            spec = load_machine_file(path, display, document=doc)
        else:
            spec = load_rule_document(doc)
    except SpecError as e:
        errors = [d for d in e.diagnostics if d.severity == "error"]
        warnings = [d for d in e.diagnostics if d.severity != "error"]
        return errors, warnings
    return [], list(getattr(spec, "warnings", ()))


def run(args: argparse.Namespace) -> int:
    from engine.diagnostics import printable

    failed = 0
    files = _files(args.paths)
    for path, display in files:
        errors, warnings = check_file(path, display)
        for d in [*errors, *warnings]:
            print(d.render(), file=sys.stderr if d.severity == "error" else sys.stdout)
        shown = printable(display)
        if errors:
            failed += 1
            count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
            print(f"FAILED {shown}: {count}", file=sys.stderr)
        elif not args.quiet:
            print(f"ok {shown}")
    if failed:
        print(f"{failed} of {len(files)} file(s) failed", file=sys.stderr)
        return 2
    return 0
