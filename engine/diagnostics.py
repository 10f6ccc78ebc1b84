"""Located messages that point into a user's file.

Shape (one per problem, all problems of a file at once)::

    rules/adx.yaml:14:10: error[unknown-name]: exits[2] 'stop_loss': unknown name 'positon.pnl_pct'
       14 |   when: "positon.pnl_pct <= -1.0"
          |          ^^^^^^^^^^^^^^^
       hint: did you mean 'position.pnl_pct'?
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diagnostic"]

_MAX_SHOWN = 100  # characters of a source line shown under a diagnostic


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
            text = self.source_line.rstrip("\n").expandtabs(1)
            col = self.col
            if len(text) > _MAX_SHOWN:  # show a window around the column of a very long line
                start = max(0, min(col - 1 - _MAX_SHOWN // 2, len(text) - _MAX_SHOWN))
                text = ("…" if start else "") + text[start : start + _MAX_SHOWN] + "…"
                col = col - start + (1 if start else 0)
            caret = "^" * max(1, min(self.length, max(1, len(text) - col + 1)))
            out.append(f"   {num} | {text}")
            out.append(f"   {pad} | {' ' * (col - 1)}{caret}")
        if self.hint:
            out.append(f"   hint: {self.hint}")
        return "\n".join(out)
