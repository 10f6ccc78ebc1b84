"""JSON Schema validation whose every error points into the user's YAML file.

The schemas in ``schema/`` are the single source of truth for the shape of rule and
machine files. Every error ``iter_errors`` yields is reported (sorted by line), mapped
through the SourceMap; unknown keys get a "did you mean" from the schema's own properties.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic
from engine.spec._yaml import Path_, SourceMap

__all__ = ["load_schema", "schema_diagnostics", "schema_dir"]

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty",
}


def schema_dir() -> Path:
    """The folder of the JSON Schemas: inside the installed package or the checkout."""
    packaged = Path(str(resources.files("engine.spec").joinpath("schema")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schema"


@cache
def load_schema(name: str) -> dict[str, Any]:
    with (schema_dir() / name).open(encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


@cache
def _validator(name: str):  # type: ignore[no-untyped-def]
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, str):
        return f"the string {value!r}"
    return repr(value)


def _expected_type(schema_type: Any) -> str:
    types = schema_type if isinstance(schema_type, list) else [schema_type]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _field(path: Path_) -> str:
    """The field's own name ('priority'), or its list position ('underlyings[1]')."""
    if not path:
        return "the file"
    if isinstance(path[-1], int):
        parent = path[-2] if len(path) > 1 else "item"
        return f"'{parent}[{path[-1]}]'"
    return f"'{path[-1]}'"


def _errors_for(
    error: Any, source: SourceMap, where: Callable[[Path_], str]
) -> Iterable[Diagnostic]:
    path: Path_ = tuple(error.absolute_path)
    kind = error.validator
    at = where(path)
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = error.schema.get("patternProperties", {})
        for key in error.instance:
            if key in known or any(re.search(p, key) for p in patterns):
                continue
            near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = (
                f"did you mean '{near[0]}'?" if near else f"known keys: {', '.join(sorted(known))}"
            )
            yield source.diagnostic(
                (*path, key),
                "unknown-key",
                f"unknown key '{key}'",
                where=at,
                hint=hint,
                on_key=True,
            )
        return
    if kind == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        for key in missing:
            yield source.diagnostic(
                path, "missing-key", f"missing required key '{key}'", where=at, on_key=True
            )
        return
    if kind == "type":
        message = (
            f"{_field(path)} must be {_expected_type(error.validator_value)}; "
            f"it was {_describe_value(error.instance)}"
        )
        yield source.diagnostic(path, "wrong-type", message, where=at)
        return
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        near = difflib.get_close_matches(str(error.instance), choices, n=1, cutoff=0.6)
        yield source.diagnostic(
            path,
            "bad-value",
            f"{_field(path)} was {_describe_value(error.instance)}; expected one of "
            f"{', '.join(choices)}",
            where=at,
            hint=f"did you mean '{near[0]}'?" if near else "",
        )
        return
    if kind in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match

        yield from _errors_for(best_match(error.context), source, where)
        return
    if kind == "pattern":
        expected = error.schema.get("x-expected", f"text matching {error.validator_value}")
        message = f"{_field(path)} was {_describe_value(error.instance)}; expected {expected}"
        yield source.diagnostic(path, "bad-value", message, where=at)
        return
    if kind in ("minItems", "minProperties") and error.validator_value == 1:
        message = f"{_field(path)} is empty; it needs at least one entry"
        yield source.diagnostic(path, "bad-value", message, where=at)
        return
    code = "bad-value"
    yield source.diagnostic(path, code, f"{_field(path)}: {error.message}", where=at)


def schema_diagnostics(
    data: Any, schema_name: str, source: SourceMap, where: Callable[[Path_], str]
) -> list[Diagnostic]:
    """Every schema error in data, as located diagnostics."""
    validator = _validator(schema_name)
    out: list[Diagnostic] = []
    for error in validator.iter_errors(data):
        out.extend(_errors_for(error, source, where))
    # One problem can surface through several schema branches; keep each once.
    unique = {(d.line, d.col, d.code, d.message): d for d in out}
    return sorted(unique.values(), key=lambda d: d.sort_key)
