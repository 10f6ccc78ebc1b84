"""Located messages that point into a user's file.

Shape (one per problem, all problems of a file at once)::

    rules/adx.yaml:14:10: error[unknown-name]: exits[2] 'stop_loss': unknown name 'positon.pnl_pct'
       14 |   when: "positon.pnl_pct <= -1.0"
          |          ^^^^^^^^^^^^^^^
       hint: did you mean 'position.pnl_pct'?
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["Diagnostic", "printable"]

_MAX_SHOWN = 100  # characters of a source line shown under a diagnostic

# Characters that change what a terminal shows rather than showing themselves: C0 and C1
# controls (ESC starts the sequences that clear a screen or move the cursor), DEL, and the
# bidirectional overrides that reorder text on screen.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with every control character escaped (``\\x1b``), so that text taken from a
    user's file cannot clear the screen, move the cursor or fake a line of output when it
    is printed. Characters in ``keep`` (e.g. newline in a multi-line message) stay."""
    if text.isprintable() and not any(ch in _BIDI for ch in text):
        return text  # the usual case, checked in C
    return "".join(
        _escape(ch)
        if ch not in keep and (unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI)
        else ch
        for ch in text
    )


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one place of a file. Lines and columns are 1-based."""

    file: str
    line: int
    col: int
    code: str
    message: str
    where: str = ""  # e.g. "exits[2] 'stop_loss'"
    hint: str = ""
    source_line: str = ""  # the text of `line`, for the caret display
    length: int = 1  # how many characters the caret underlines
    severity: str = "error"

    def __post_init__(self) -> None:
        # Text from a user's file enters every message here, so it is made safe to print
        # here, once: each field is one line, with control characters escaped.
        for name in ("file", "code", "message", "where", "hint"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, printable(value))

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.code, self.message)

    def headline(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return (
            f"{self.file}:{self.line}:{self.col}: {self.severity}[{self.code}]: "
            f"{where}{self.message}"
        )

    def render(self) -> str:
        """The headline, the source line with a caret under the column, and the hint."""
        out = [self.headline()]
        if self.source_line:
            num = str(self.line)
            pad = " " * len(num)
            raw = self.source_line.rstrip("\n").expandtabs(1)
            text = printable(raw)  # the caret moves with the characters escaping widened
            begin = max(0, self.col - 1)
            col = len(printable(raw[:begin])) + 1
            length = max(1, len(printable(raw[begin : begin + self.length])))
            if len(text) > _MAX_SHOWN:  # show a window around the column of a very long line
                start = max(0, min(col - 1 - _MAX_SHOWN // 2, len(text) - _MAX_SHOWN))
                text = ("…" if start else "") + text[start : start + _MAX_SHOWN] + "…"
                col = col - start + (1 if start else 0)
            caret = "^" * max(1, min(length, max(1, len(text) - col + 1)))
            out.append(f"   {num} | {text}")
            out.append(f"   {pad} | {' ' * (col - 1)}{caret}")
        if self.hint:
            out.append(f"   hint: {self.hint}")
        return "\n".join(out)
