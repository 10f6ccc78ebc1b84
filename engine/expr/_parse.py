"""From source text to a Python AST, with hostile input turned into our errors.

CPython's parser is not built for hostile input: deep brackets, long unary chains and long
operator chains make it raise SyntaxError, MemoryError or RecursionError from deep inside.
The length and bracket depth are checked before parsing, the tree's depth and size after,
so every failure is a ``Problem`` with a position, never a crash.

Multi-line expressions (YAML block scalars) are flattened to one line of the same length,
so every offset in the tree maps back to (line, column) of the original text.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from engine.expr._limits import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH

__all__ = ["Problem", "SourceText", "parse_source"]


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem in one expression, at a character offset of its source."""

    code: str
    message: str
    offset: int = 0
    length: int = 1
    hint: str = ""


class SourceText:
    """The expression text, with offset -> (line, column) mapping (both 0-based)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.flat = text.replace("\r", " ").replace("\n", " ")
        self._line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._line_starts.append(i + 1)
        # "(" + flat + ")" is what the parser sees; its UTF-8 byte offsets map to characters.
        self._wrapped = "(" + self.flat + ")"
        self._byte_to_char: list[int] | None = None
        if not self._wrapped.isascii():
            table: list[int] = []
            for i, ch in enumerate(self._wrapped):
                table.extend([i] * len(ch.encode("utf-8")))
            table.append(len(self._wrapped))
            self._byte_to_char = table

    @property
    def wrapped(self) -> str:
        return self._wrapped

    def char_offset(self, byte_col: int) -> int:
        """Offset in ``text`` of a column the parser reported on the wrapped line."""
        col = self._byte_to_char[byte_col] if self._byte_to_char is not None else byte_col
        return max(0, min(len(self.text), col - 1))

    def line_col(self, offset: int) -> tuple[int, int]:
        line = 0
        for i, start in enumerate(self._line_starts):
            if start <= offset:
                line = i
            else:
                break
        return line, offset - self._line_starts[line]

    def segment(self, start: int, end: int) -> str:
        return self.flat[start:end].strip()


def _scan(text: str) -> Problem | None:  # noqa: C901 - one small scanner, read top to bottom
    """Bracket depth and comments, outside string literals, before the parser sees it."""
    depth = 0
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif ch in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        elif ch == "#":
            return Problem(
                "syntax",
                "'#' starts a comment, which is not allowed inside an expression",
                i,
                hint="put comments on their own YAML line, outside the quoted expression",
            )
        elif ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                return Problem("too-deep", f"brackets nested deeper than {MAX_DEPTH} levels", i)
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return Problem(
                    "syntax", f"syntax error: '{ch}' closes a bracket that was not opened", i
                )
        i += 1
    if quote:
        return Problem("syntax", "syntax error: a string literal is not closed", len(text) - 1)
    if depth > 0:
        return Problem("syntax", "syntax error: a bracket is not closed", len(text) - 1)
    return None


def _depth_and_size(tree: ast.AST) -> tuple[int, int]:
    """Tree depth and node count, iteratively (the tree may be deeper than the stack)."""
    count = 0
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if count > MAX_NODES * 4:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest, count


def parse_source(src: SourceText) -> tuple[ast.expr | None, Problem | None]:
    """Parse one expression; the tree's root expression, or the problem that stopped it."""
    text = src.text
    if not text.strip():
        return None, Problem("syntax", "the expression is empty")
    if len(text) > MAX_SOURCE_LENGTH:
        return None, Problem(
            "too-long",
            f"the expression is {len(text)} characters long; the limit is {MAX_SOURCE_LENGTH}",
        )
    problem = _scan(text)
    if problem is not None:
        return None, problem
    try:
        with warnings.catch_warnings():
            # "1and x" parses with a SyntaxWarning; make it the syntax error it is.
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(src.wrapped, mode="eval")
    except SyntaxError as e:
        col = src.char_offset((e.offset or 1) - 1) if e.lineno == 1 else 0
        message = (e.msg or "invalid syntax").replace("'(' was never closed", "unbalanced brackets")
        return None, Problem("syntax", f"syntax error: {message}", col)
    except (MemoryError, RecursionError, ValueError, OverflowError):
        return None, Problem("too-complex", "the expression is too complex to parse")
    depth, size = _depth_and_size(tree)
    if depth > MAX_DEPTH + 2:
        return None, Problem(
            "too-deep",
            f"the expression nests operators deeper than {MAX_DEPTH} levels; split it up",
        )
    if size > MAX_NODES:
        return None, Problem(
            "too-complex", f"the expression has more than {MAX_NODES} parts; split it into rules"
        )
    return tree.body, None
