"""A YAML loader that remembers where every key and value came from.

``load_yaml`` composes the YAML node tree (which keeps line and column marks), rejects
tabs in indentation and duplicate keys while building plain Python data, and returns a
``SourceMap`` from path tuples (``("exits", 2, "when")``) to spans, so schema and
expression errors can point into the user's file: line, column, the line's text.

Rule and machine files are small, hand-written documents, so the loader bounds what a
hostile or careless file can make it do, and reports each case at its line and column:

- anchors and aliases (``&x``, ``*x``) are refused: a ten-line "billion laughs" file
  otherwise expands to gigabytes, and a recursive alias never ends;
- nesting deeper than ``MAX_YAML_DEPTH`` is refused before the tree is built;
- only plain tags are read (text, numbers, booleans, null, dates); a value its tag cannot
  construct (``!!float abc``, a 5,000-digit integer, a date with month 13) is an error;
- numbers beyond ``MAX_MAGNITUDE`` (``1e999`` and ``.inf`` read as infinity, ``.nan``)
  are refused wherever they appear: no setting, parameter or limit needs them;
- a control character is reported at its real line, and files over ``MAX_YAML_BYTES``
  are refused unread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.diagnostics import Diagnostic
from engine.errors import SpecError
from engine.expr._limits import MAX_MAGNITUDE

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "Path_",
    "SourceMap",
    "Span",
    "YamlDocument",
    "load_yaml",
    "load_yaml_file",
]

#: Deepest nesting of mappings and lists in a rule or machine file.
MAX_YAML_DEPTH = 50
#: Largest rule or machine file read, in bytes.
MAX_YAML_BYTES = 2_000_000
#: Most anchor, alias or depth problems reported for one file.
_MAX_REPORTED = 20

_TAG = "tag:yaml.org,2002:"
#: The tags a rule or machine file may use (explicitly or by plain YAML resolution).
_PLAIN_TAGS = frozenset(
    _TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)

#: A path into the loaded data: keys and list indices.
Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of the file; lines and columns are 1-based, end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: yaml.Node) -> Span:
        s, e = node.start_mark, node.end_mark
        return cls(s.line + 1, s.column + 1, e.line + 1, e.column + 1)

    @property
    def length(self) -> int:
        return self.end_col - self.col if self.end_line == self.line else 1


@dataclass
class SourceMap:
    """Spans of every key and value of one loaded file."""

    file: str
    text: str
    lines: list[str] = field(init=False)
    keys: dict[Path_, Span] = field(default_factory=dict)
    values: dict[Path_, Span] = field(default_factory=dict)
    scalars: dict[Path_, yaml.ScalarNode] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def span(self, path: Path_, *, on_key: bool = False) -> Span:
        """The span of the value (or key) at path, or of its nearest ancestor."""
        p = tuple(path)
        while True:
            found = (self.keys.get(p) if on_key else None) or self.values.get(p)
            if found is not None:
                return found
            if not p:
                return Span(1, 1, 1, 2)
            p = p[:-1]

    def diagnostic(
        self,
        path: Path_,
        code: str,
        message: str,
        *,
        where: str = "",
        hint: str = "",
        on_key: bool = False,
        severity: str = "error",
    ) -> Diagnostic:
        span = self.span(path, on_key=on_key)
        return Diagnostic(
            file=self.file,
            line=span.line,
            col=span.col,
            code=code,
            message=message,
            where=where,
            hint=hint,
            source_line=self.line_text(span.line),
            length=span.length,
            severity=severity,
        )

    def locator(self, path: Path_):  # type: ignore[no-untyped-def]
        """Map (line, col) inside the string at path (0-based) to the file (1-based)."""
        node = self.scalars.get(tuple(path))
        positions = _align(node, self.text) if node is not None else []
        fallback = self.span(path)

        def locate(line0: int, col0: int) -> tuple[int, int, str]:
            offset = _offset_in(node.value if node is not None else "", line0, col0)
            if 0 <= offset < len(positions):
                line, col = positions[offset]
            else:
                line, col = fallback.line, fallback.col
            return line, col, self.line_text(line)

        return locate


def _offset_in(value: str, line0: int, col0: int) -> int:
    lines = value.split("\n")
    return sum(len(x) + 1 for x in lines[:line0]) + col0


def _align(node: yaml.ScalarNode, text: str) -> list[tuple[int, int]]:
    """File position (1-based line, col) of each character of a scalar's value.

    Walks the source region of the scalar and matches the value's characters in order,
    skipping quotes, block indentation, escapes and folded line breaks.
    """
    start, end = node.start_mark.index, node.end_mark.index
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    out: list[tuple[int, int]] = []
    i = start
    for ch in node.value:
        while i < end:
            src = text[i]
            if src == ch or (ch in " \n" and src in " \n"):
                out.append((line, col))
                if src == "\n":
                    line, col = line + 1, 1
                else:
                    col += 1
                i += 1
                break
            if src == "\n":
                line, col = line + 1, 1
            else:
                col += 1
            i += 1
        else:
            out.append((line, col))
    return out


@dataclass
class YamlDocument:
    """Plain data (dicts, lists, scalars) plus where each part came from."""

    data: Any
    source: SourceMap
    diagnostics: list[Diagnostic]  # load-level problems that did not stop loading


class _Builder:
    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.fatal: list[Diagnostic] = []  # values that could not be read at all
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.source.values[path] = Span.of(node)
        if node.tag not in _PLAIN_TAGS:
            self.fatal.append(
                self._at(
                    node,
                    "yaml-tag",
                    f"tag '{node.tag.replace(_TAG, '!!')}' is not allowed in this file",
                    hint="write plain text, numbers, true/false, lists and mappings",
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        self.source.scalars[path] = node
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """The scalar's value; a value its tag cannot hold is a located error."""
        kind = node.tag.replace(_TAG, "")
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError) as e:
            if "digits" in str(e):
                detail = " (it has thousands of digits)"
            elif isinstance(e, ValueError | OverflowError):
                detail = f" ({e})"
            else:
                detail = ""
            self.fatal.append(
                self._at(
                    node,
                    "bad-value",
                    f"{node.value[:40]!r} is not a valid {kind}{detail}",
                    hint="quote it if it is meant as text",
                )
            )
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # also NaN
                self.fatal.append(
                    self._at(
                        node,
                        "bad-number",
                        f"{node.value[:40]!r} is not a finite number within ±{MAX_MAGNITUDE:.4g}",
                        hint="write an ordinary number",
                    )
                )
                return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    self._at(key_node, "bad-key", "a key must be a plain name, not a list or map")
                )
                continue
            if key_node.tag not in _PLAIN_TAGS:
                merge = key_node.tag == _TAG + "merge"
                self.fatal.append(
                    self._at(
                        key_node,
                        "yaml-tag",
                        "merge keys (<<) are not allowed in this file"
                        if merge
                        else f"tag '{key_node.tag.replace(_TAG, '!!')}' is not allowed on a key",
                        hint="write every key and value out where it is used",
                    )
                )
                continue
            key = self._scalar(key_node)
            if key is None and self.fatal:
                continue
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                self.diagnostics.append(
                    self._at(
                        key_node,
                        "duplicate-key",
                        f"duplicate key '{key}' (first defined on line {first_line[key]})",
                        hint="YAML keeps only the last one; remove or rename one of them",
                    )
                )
            first_line.setdefault(key, key_node.start_mark.line + 1)
            self.source.keys[(*path, key)] = Span.of(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _at(self, node: yaml.Node, code: str, message: str, hint: str = "") -> Diagnostic:
        span = Span.of(node)
        return Diagnostic(
            self.source.file,
            span.line,
            span.col,
            code,
            message,
            hint=hint,
            source_line=self.source.line_text(span.line),
            length=span.length,
        )


def _tab_diagnostics(source: SourceMap) -> list[Diagnostic]:
    out = []
    for n, line in enumerate(source.lines, start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            out.append(
                Diagnostic(
                    source.file,
                    n,
                    indent.index("\t") + 1,
                    "tab",
                    "tab character in indentation; YAML indents with spaces only",
                    hint="replace the tab with spaces",
                    source_line=line,
                )
            )
    return out


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def _syntax_diagnostic(source: SourceMap, e: yaml.YAMLError) -> Diagnostic:
    if isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow
        line, col = _line_col(source.text, e.position)
        message = f"YAML syntax error: character U+{e.character:04X} is not allowed in YAML"
        return Diagnostic(
            source.file,
            line,
            col,
            "yaml-syntax",
            message,
            hint="remove it (a control character, often pasted along with text)",
            source_line=source.line_text(line),
        )
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Diagnostic(
        source.file, line, col, "yaml-syntax", message, source_line=source.line_text(line)
    )


def _event_problems(events: Any, source: SourceMap) -> list[Diagnostic]:
    """Anchors, aliases and too-deep nesting, found in the event stream before any tree
    is built (a tree of aliases can be exponentially large, or endless)."""
    out: list[Diagnostic] = []
    depth = 0

    def at(event: Any, code: str, message: str, hint: str) -> Diagnostic:
        line, col = event.start_mark.line + 1, event.start_mark.column + 1
        return Diagnostic(
            source.file, line, col, code, message, hint=hint, source_line=source.line_text(line)
        )

    for event in events:
        if isinstance(event, yaml.AliasEvent):
            out.append(
                at(
                    event,
                    "yaml-alias",
                    f"alias '*{event.anchor}' is not allowed in rule and machine files",
                    "write the value out where it is used",
                )
            )
        elif getattr(event, "anchor", None) is not None:
            out.append(
                at(
                    event,
                    "yaml-anchor",
                    f"anchor '&{event.anchor}' is not allowed in rule and machine files",
                    "remove the anchor and write the value out where it is used",
                )
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                out.append(
                    at(
                        event,
                        "too-deep",
                        f"lists and mappings are nested deeper than {MAX_YAML_DEPTH} levels",
                        "a rule or machine file needs only a few levels",
                    )
                )
                break
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if len(out) >= _MAX_REPORTED:
            break
    return out


def _scan(text: str, source: SourceMap) -> list[Diagnostic]:
    """Event-level problems; a syntax error is raised with the pure-Python parser's words."""
    try:
        return _event_problems(yaml.parse(text, Loader=_FAST_LOADER), source)
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
        return _event_problems(yaml.parse(text, Loader=yaml.SafeLoader), source)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    """The node tree, parsed by libyaml when present (about 10x faster, same marks).

    libyaml words its errors differently, so a document it rejects is parsed again by the
    pure-Python parser, whose messages are the documented ones on every machine.
    """
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        if _FAST_LOADER is yaml.SafeLoader:
            raise
        return yaml.compose(text, Loader=yaml.SafeLoader)


def load_yaml(text: str, file: str) -> YamlDocument:
    """Load one YAML document; raise SpecError when it cannot be read at all."""
    source = SourceMap(file, text)
    tabs = _tab_diagnostics(source)
    try:
        problems = _scan(text, source)
        root = None if problems else _compose(text)
    except yaml.YAMLError as e:
        syntax = _syntax_diagnostic(source, e)
        same_line = any(t.line == syntax.line for t in tabs)
        raise SpecError(tabs if same_line else [*tabs, syntax]) from None
    if tabs or problems:
        raise SpecError([*tabs, *problems])
    if root is None:
        raise SpecError(
            [Diagnostic(file, 1, 1, "empty-file", "the file is empty; expected a YAML mapping")]
        )
    builder = _Builder(source)
    data = builder.build(root, ())
    if builder.fatal:
        raise SpecError([*builder.diagnostics, *builder.fatal])
    return YamlDocument(data, source, builder.diagnostics)


def load_yaml_file(path: str | Path, display: str | None = None) -> YamlDocument:
    p = Path(path)
    name = display or str(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_YAML_BYTES:
            raise SpecError(
                [
                    Diagnostic(
                        name,
                        1,
                        1,
                        "too-large",
                        f"the file is {p.stat().st_size:,} bytes; rule and machine files "
                        f"are at most {MAX_YAML_BYTES:,}",
                    )
                ]
            )
        raw = p.read_bytes()
    except OSError as e:
        raise SpecError(
            [Diagnostic(name, 1, 1, "unreadable", f"cannot read the file: {e.strerror}")]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SpecError(
            [Diagnostic(name, line, 1, "encoding", "the file is not valid UTF-8 text")]
        ) from None
    return load_yaml(text.lstrip("\ufeff"), name)
