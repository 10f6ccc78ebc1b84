"""``engine diagram``: export state machine diagrams (Mermaid, DOT, SVG) for review.

    engine diagram machines/position.yaml --format mermaid            # to stdout
    engine diagram machines/ --format mermaid                          # every machine, to stdout
    engine diagram machines/position.yaml --format svg --out pos.svg
    engine diagram machines/ --format mermaid --out docs/diagrams/     # one file per machine
    engine diagram machines/position.yaml --journal journal.jsonl      # path taken highlighted

Without ``--out``, text diagrams go to standard output; for a folder, each machine's
diagram follows a comment line naming its file. SVG needs ``--out`` for a folder. Files
are written through ``engine.safe_files`` (atomic, never through a link). The same file
always gives the same bytes, so committed diagrams can be checked for drift.
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


_RULE_KEYS = ("underlyings", "triggers", "exits", "filters", "direction")
_COMMENT = {"mermaid": "%% {}", "dot": "// {}"}


def _check_machine_file(path: Path) -> None:
    """One line when ``path`` is not a machine file (a rule file, say), before loading it."""
    from engine.errors import UserInputError
    from engine.machines import is_machine_document
    from engine.spec._yaml import load_yaml_file

    data = load_yaml_file(path).data
    if is_machine_document(data):
        return
    if isinstance(data, dict) and any(key in data for key in _RULE_KEYS):
        raise UserInputError(
            f"{path} is a rule file, not a machine file: engine diagram draws state machines "
            "(machines/*.yaml); check a rule file with engine validate"
        )
    raise UserInputError(f"{path} is not a machine file (it has no top-level 'states:')")


def _write(out: Path, text: str, *, folder: bool, name: str = "") -> None:
    """Write one diagram (its folder is made when missing), atomically."""
    from engine.safe_files import open_folder

    target = out / name if folder else out
    with open_folder(target.parent, create=True) as f:
        f.write_atomic(target.name, text)
    print(f"wrote {target}")


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
    if not source.is_dir():
        _check_machine_file(source)
    out = Path(args.out) if args.out else None
    to_folder = source.is_dir() or (out is not None and (out.is_dir() or args.out.endswith("/")))
    if source.is_dir() and out is None and args.format == "svg":
        raise UserInputError("give --out FOLDER to write one SVG file per machine")
    texts = []
    for path in files:  # every diagram is rendered before anything is written
        spec = load_machine_file(path, path.as_posix())
        highlight = highlight_from_journal(Path(args.journal), spec.name) if args.journal else None
        texts.append((path, render(spec, args.format, highlight)))
    for index, (path, text) in enumerate(texts):
        if out is None:
            if source.is_dir():
                separator = "\n" if index else ""
                sys.stdout.write(separator + _COMMENT[args.format].format(path.as_posix()) + "\n")
            sys.stdout.write(text)
        else:
            _write(out, text, folder=to_folder, name=f"{path.stem}.{FORMATS[args.format]}")
    return 0
