"""``engine context RULE_FILE``: list every name the rule's expressions may read.

The list is the vocabulary the expression checker validates names against: the runtime
names, the declared timeframes' bar fields and indicators (with ``.prev``), and params.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_file", metavar="RULE_FILE", help="a rule file, e.g. rules/adx.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    import json

    from engine.spec.rules import load_rule_file

    spec = load_rule_file(args.rule_file)
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
    width = max(len(n) for n in vocab)
    print(f"{'name':<{width}}  {'type':<6}  {'unit':<7}  meaning")
    for name, info in vocab.items():
        doc = info.doc + (f" (one of {', '.join(info.choices)})" if info.choices else "")
        print(f"{name:<{width}}  {info.type!s:<6}  {info.unit:<7}  {doc}")
    return 0
