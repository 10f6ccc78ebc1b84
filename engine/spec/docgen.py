"""Generated parts of docs/rules.md, so the reference cannot drift from the code.

The sections between ``<!-- BEGIN GENERATED: NAME -->`` and ``<!-- END GENERATED: NAME -->``
are rendered from the vocabulary, the function table, the JSON Schema, the limits, and
the error codes, whose examples are real loader output. ``python -m engine.spec.docgen``
rewrites them; a test fails when the committed file differs from a fresh rendering.
"""

from __future__ import annotations

import ast
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.vocabulary import BAR_FIELDS, TIMEFRAMES, base_vocabulary

__all__ = ["ERROR_CODES", "SECTIONS", "regenerate"]

_TEMPLATE = """name: example
underlyings: [NIFTY]
indicators:
  daily: {adx: adx(14), plus_di: plus_di(14), minus_di: minus_di(14)}
direction:
  CE: daily.adx >= 25 and daily.plus_di > daily.minus_di
triggers:
  - {name: go, side: CE, when: "%s"}
exits:
  - {name: market_close, priority: 1, when: "time >= '15:20'"}
"""


def _rule(trigger: str) -> str:
    return _TEMPLATE % trigger


#: code -> (what it means, an example rule file that produces it)
ERROR_CODES: dict[str, tuple[str, str]] = {
    "yaml-syntax": ("the file is not valid YAML", "name: example\nunderlyings: [NIFTY\n"),
    "tab": (
        "a tab in indentation (YAML indents with spaces)",
        "name: x\ndirection:\n\tCE: vix < 30\n",
    ),
    "duplicate-key": (
        "a key appears twice in one mapping; YAML would silently keep the last",
        _rule("vix < 20").replace("underlyings: [NIFTY]", "underlyings: [NIFTY]\nname: again"),
    ),
    "empty-file": ("the file has no content", ""),
    "unknown-key": (
        "a key the schema does not know, usually a typo",
        _rule("vix < 20").replace("exits:", "exit:"),
    ),
    "missing-key": (
        "a required key is absent",
        _rule("vix < 20").replace("{name: go, side: CE, ", "{name: go, "),
    ),
    "wrong-type": (
        "a value of the wrong kind (text where a number belongs...)",
        _rule("vix < 20").replace("priority: 1", "priority: first"),
    ),
    "bad-value": (
        "a value outside the allowed set or pattern",
        _rule("vix < 20").replace("side: CE", "side: CALL"),
    ),
    "duplicate-name": (
        "two rules share a name; the journal refers to rules by name",
        _rule("vix < 20").replace("name: market_close", "name: go"),
    ),
    "reserved-name": (
        "an indicator named like a bar field",
        _rule("vix < 20").replace("adx: adx(14)", "close: ema(9)"),
    ),
    "bad-indicator": (
        "an indicator definition that does not parse",
        _rule("vix < 20").replace("adx: adx(14)", "adx: adz(14)"),
    ),
    "side-never-allowed": (
        "a trigger buys a side the direction never allows",
        _rule("vix < 20").replace("side: CE", "side: PE"),
    ),
    "fraction-with-exit-all": (
        "a partial exit that closes every position",
        _rule("vix < 20").replace(
            "when: \"time >= '15:20'\"}",
            "when: \"time >= '15:20'\", fraction: 0.5, action: exit_all}",
        ),
    ),
    "repeatable-without-fraction": (
        "repeatable on an exit that closes the whole position",
        _rule("vix < 20").replace(
            "when: \"time >= '15:20'\"}", "when: \"time >= '15:20'\", repeatable: true}"
        ),
    ),
    "never-true": (
        "a condition interval reasoning shows can never hold",
        _rule("vix > 30 and vix < 20"),
    ),
    "shadowed-exit": (
        "an exit that never fires because an earlier exit covers it (a warning, not an error)",
        _rule("vix < 20").replace(
            "exits:\n",
            'exits:\n  - {name: stop_2, priority: 1, when: "position.pnl_pct <= -2"}\n'
            '  - {name: stop_3, priority: 2, when: "position.pnl_pct <= -3"}\n',
        ),
    ),
    "index-volume": (
        "a condition reads volume on an index, whose bars carry none (a warning)",
        _rule("daily.volume > 1000"),
    ),
    "syntax": ("the expression is not valid syntax", _rule("vix < ")),
    "too-long": ("the expression is longer than the limit", _rule("vix < 1" + " " * 4000)),
    "too-deep": (
        "brackets or operators nested past the limit",
        _rule("(" * 41 + "vix" + ")" * 41 + " < 1"),
    ),
    "too-complex": ("more parts than the limit", _rule(" and ".join(["vix < 1"] * 140))),
    "unknown-name": ("a name that is not in the vocabulary", _rule("vixx < 20")),
    "namespace-as-value": ("a namespace used as a value", _rule("daily > 20")),
    "forbidden-name": ("names starting with '_' are never readable", _rule("daily.__class__ == 1")),
    "forbidden-attribute": (
        "an attribute read from something that is not a context name",
        _rule("(vix + 1).real > 1"),
    ),
    "not-allowed": ("syntax the language leaves out", _rule("daily['adx'] > 25")),
    "unknown-function": ("a call to a function not in the list", _rule("sqrt(vix) > 4")),
    "bad-call": (
        "a listed function called with the wrong number of arguments",
        _rule("abs(vix, 1) > 4"),
    ),
    "type-mismatch": ("values of different types compared or combined", _rule("time > 1030")),
    "bad-time": ("a time literal that is not 'HH:MM' or 'HH:MM:SS'", _rule("time > '10.30'")),
    "bad-date": ("a date literal that is not 'YYYY-MM-DD'", _rule("date == '07-01-2025'")),
    "bad-choice": ("a string a name can never equal", _rule("position.side == 'CALL'")),
    "power-too-large": ("a constant power past the bound", _rule("vix < 10 ** 100")),
    "bad-number": ("a number literal beyond the range of numbers", _rule("vix < 1e999")),
    "string-too-long": (
        "a string literal past the limit",
        _rule("position.side == '" + "x" * 201 + "'"),
    ),
}


def _example_output(text: str) -> str:
    from engine.errors import SpecError
    from engine.spec._yaml import load_yaml
    from engine.spec.rules import load_rule_document

    try:
        spec = load_rule_document(load_yaml(text, "rules/example.yaml"))
    except SpecError as e:
        return "\n".join(d.render() for d in e.diagnostics)
    if spec.warnings:
        return "\n".join(d.render() for d in spec.warnings)
    raise AssertionError("an error-code example loaded without error")


def _error_codes() -> str:
    out = []
    for code, (meaning, example) in ERROR_CODES.items():
        out.append(f"### `{code}`\n\n{meaning[0].upper()}{meaning[1:]}.\n")
        out.append("```\n" + _example_output(example) + "\n```\n")
    return "\n".join(out)


def _runtime_names() -> str:
    rows = ["| name | type | unit | meaning |", "|---|---|---|---|"]
    for name, info in base_vocabulary().items():
        doc = info.doc + (f" (one of {', '.join(info.choices)})" if info.choices else "")
        rows.append(f"| `{name}` | {info.type} | {info.unit} | {doc} |")
    return "\n".join(rows) + "\n"


def _bar_fields() -> str:
    tfs = ", ".join(f"`{tf}`" for tf in TIMEFRAMES)
    rows = [f"Timeframes: {tfs}.\n", "| field | meaning |", "|---|---|"]
    rows += [f"| `TF.{f}` | {doc} |" for f, doc in BAR_FIELDS.items()]
    return "\n".join(rows) + "\n"


def _functions() -> str:
    from engine.expr import FUNCTIONS

    rows = ["| function | returns | meaning |", "|---|---|---|"]
    rows += [f"| `{f.signature}` | {f.returns} | {f.doc} |" for f in FUNCTIONS.values()]
    from engine.expr._check import CROSSINGS

    for signature, (then_op, now_op) in CROSSINGS.values():
        then, now = {ast.LtE: "<=", ast.GtE: ">="}[then_op], {ast.Gt: ">", ast.Lt: "<"}[now_op]
        move = "rises above" if now == ">" else "falls below"
        rows.append(
            f"| `{signature}` | bool | true on the bar where a {move} b: "
            f"`a.prev {then} b.prev and a {now} b` (a and b: bar fields, indicators or numbers) |"
        )
    return "\n".join(rows) + "\n"


def _limits() -> str:
    from engine.expr import _limits as limits

    rows = ["| limit | value | meaning |", "|---|---|---|"]
    docs = {
        "MAX_SOURCE_LENGTH": "characters in one expression",
        "MAX_DEPTH": "levels of brackets or nested operators",
        "MAX_NODES": "parts (names, literals, operators) in one expression",
        "MAX_STRING_LITERAL": "characters in one string literal",
        "MAX_POWER": "largest base or exponent of `**` (a larger one gives a missing value)",
        "MAX_MAGNITUDE": "largest size of a number: a literal or parameter beyond it (or "
        "`.inf`, `.nan`) is refused at load, a result beyond it is missing",
    }
    for name, doc in docs.items():
        value = getattr(limits, name)
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
        rows.append(f"| `{name}` | {shown} | {doc} |")
    return "\n".join(rows) + "\n"


def _schema_keys() -> str:
    from engine.spec._schema import load_schema

    schema = load_schema("rules.schema.json")
    defs = schema["$defs"]
    required = set(schema.get("required", []))
    rows = ["| key | required | meaning |", "|---|---|---|"]

    def resolve(prop: dict) -> dict:  # type: ignore[type-arg]
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        return defs[ref.rsplit("/", 1)[-1]] if ref else prop

    for key, prop in schema["properties"].items():
        rows.append(f"| `{key}` | {'yes' if key in required else ''} | {prop['description']} |")
        inner = resolve(prop)
        for sub, sp in (inner.get("properties") or {}).items():
            sub_desc = sp.get("description") or resolve(sp).get("description", "")
            if "enum" in sp:
                sub_desc += f" One of: {', '.join(f'`{v}`' for v in sp['enum'])}."
            need = "yes" if sub in inner.get("required", []) else ""
            rows.append(f"| `{key}.{sub}` | {need} | {sub_desc} |")
    return "\n".join(rows) + "\n"


def _indicators() -> str:
    from engine.indicators import KNOWN_INDICATORS

    rows = ["| definition | meaning | bars before the first value |", "|---|---|---|"]
    for info in KNOWN_INDICATORS.values():
        warm = f"{info.warmup_factor} x period" if info.warmup_factor != 1 else "period"
        if info.warmup_extra:
            warm += f" + {info.warmup_extra}"
        rows.append(f"| `{info.signature}` | {info.description} | {warm} |")
    return "\n".join(rows) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "indicators": _indicators,
    "runtime-names": _runtime_names,
    "bar-fields": _bar_fields,
    "functions": _functions,
    "limits": _limits,
    "rule-keys": _schema_keys,
    "error-codes": _error_codes,
}

_MARKER = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def regenerate(text: str) -> str:
    """The document with every generated section rendered afresh."""

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in SECTIONS:
            raise KeyError(f"docs/rules.md names an unknown generated section '{name}'")
        return m.group(1) + SECTIONS[name]() + m.group(4)

    return _MARKER.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "docs" / "rules.md"
    old = path.read_text(encoding="utf-8")
    new = regenerate(old)
    if new != old:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as f:
            f.write(new)
        Path(f.name).replace(path)
        print(f"updated {path}")
    else:
        print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
