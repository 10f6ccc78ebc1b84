"""``engine diagram``: export state machine diagrams (Mermaid, DOT, SVG) for review.

    engine diagram machines/position.yaml --format mermaid            # to stdout
    engine diagram machines/position.yaml --format svg --out pos.svg
    engine diagram machines/ --format mermaid --out docs/diagrams/     # one file per machine
    engine diagram machines/position.yaml --journal journal.jsonl      # path taken highlighted

The same file always gives the same bytes, so committed diagrams can be checked for drift.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a machine file, or a folder of machine files")
    parser.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg"),
        default="mermaid",
        help="mermaid and dot are text; svg needs Graphviz's dot program (default mermaid)",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="output file, or folder (one file per machine); a folder is "
        "required for a folder of machines (default: standard output for "
        "one file)",
    )
    parser.add_argument(
        "--journal",
        metavar="FILE",
        help="a journal (JSON lines): highlight the path taken and the current state",
    )


def _machine_files(folder: Path) -> list[Path]:
    from engine.machines import is_machine_document
    from engine.spec._yaml import load_yaml_file

    found = []
    for path in sorted(folder.glob("*.yaml")):
        if is_machine_document(load_yaml_file(path).data):
            found.append(path)
    return found


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path}")


def run(args: argparse.Namespace) -> int:
    from engine.errors import UserInputError
    from engine.machines import load_machine_file
    from engine.machines.diagrams import FORMATS, highlight_from_journal, render

    source = Path(args.path)
    if not source.exists():
        raise UserInputError(f"{source}: no such file or folder")
    files = _machine_files(source) if source.is_dir() else [source]
    if not files:
        raise UserInputError(f"{source}: no machine files (YAML with states:) in this folder")
    out = Path(args.out) if args.out else None
    to_folder = source.is_dir() or (out is not None and (out.is_dir() or args.out.endswith("/")))
    if source.is_dir() and out is None:
        raise UserInputError("give --out FOLDER to write one diagram per machine")
    for path in files:
        spec = load_machine_file(path, path.as_posix())
        highlight = highlight_from_journal(Path(args.journal), spec.name) if args.journal else None
        text = render(spec, args.format, highlight)
        if out is None:
            sys.stdout.write(text)
        elif to_folder:
            _write(out / f"{path.stem}.{FORMATS[args.format]}", text)
        else:
            _write(out, text)
    return 0
