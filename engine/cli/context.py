"""``engine context RULE_FILE``: list every name the rule's expressions may read.

The list is the vocabulary the expression checker validates names against: the runtime
names, the declared timeframes' bar fields and indicators (with ``.prev``), and params.
A machine file is refused in one line (its guards' names are in docs/machines.md).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_file", metavar="RULE_FILE", help="a rule file, e.g. rules/adx.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    import json

    from engine.diagnostics import Diagnostic
    from engine.errors import SpecError
    from engine.spec._yaml import load_yaml_file
    from engine.spec.rules import load_rule_document

    doc = load_yaml_file(args.rule_file)
    if isinstance(doc.data, dict) and "states" in doc.data:
        raise SpecError(
            [
                Diagnostic(
                    args.rule_file,
                    1,
                    1,
                    "machine-file",
                    "this is a machine file; 'engine context' lists the names a rule "
                    "file's expressions may read (machine guards: see docs/machines.md)",
                )
            ]
        )
    spec = load_rule_document(doc)
    vocab = spec.vocabulary
    if args.json:
        rows = {
            name: {
                "type": str(info.type),
                "unit": info.unit,
                "doc": info.doc,
                **({"choices": list(info.choices)} if info.choices else {}),
            }
            for name, info in vocab.items()
        }
        print(json.dumps(rows, indent=2))
        return 0
    from engine.diagnostics import printable

    width = max(len(n) for n in vocab)
    print(f"{'name':<{width}}  {'type':<6}  {'unit':<7}  meaning")
    for name, info in vocab.items():
        doc = info.doc + (f" (one of {', '.join(info.choices)})" if info.choices else "")
        print(printable(f"{name:<{width}}  {info.type!s:<6}  {info.unit:<7}  {doc}"))
    return 0
