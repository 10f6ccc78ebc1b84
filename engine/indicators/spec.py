"""Indicator specifications as rule files write them: ``adx(14)``, ``sma(volume, 20)`` ...

Grammar: ``name(period)`` or ``name(source, period)``; spaces are free, names are
case-insensitive, ``source`` is one of ``open high low close volume`` and ``period`` a whole
number. :func:`parse_indicator_spec` turns the text into an :class:`IndicatorSpec` or raises
:class:`IndicatorSpecError` with the 1-based column of the problem and, for a misspelt name,
a "did you mean" hint, so the rule loader can point a caret at the exact character.

:data:`KNOWN_INDICATORS` is the single list of what exists, for the docs, the JSON schema
(:data:`SPEC_PATTERN`) and the validator.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from engine.errors import UserInputError
from engine.indicators.base import MAX_PERIOD

__all__ = [
    "KNOWN_INDICATORS",
    "SOURCES",
    "SPEC_PATTERN",
    "IndicatorInfo",
    "IndicatorSpec",
    "IndicatorSpecError",
    "parse_indicator_spec",
]

#: The bar series an indicator may read.
SOURCES = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class IndicatorInfo:
    """What one indicator name means: its signature, inputs, period bounds and warm-up."""

    name: str
    signature: str
    description: str
    min_period: int
    default_source: str | None  # None: reads the bar's high, low and close
    takes_source: bool  # may the rule name the series, as in sma(volume, 20)?
    core: str  # the computation; specs with the same core and period share one object
    output: str  # which output of that computation
    warmup_factor: int  # warm-up bars = warmup_factor * period + warmup_extra
    warmup_extra: int

    def warmup(self, period: int) -> int:
        """Bars needed before the first value (TA-Lib's lookback + 1)."""
        return self.warmup_factor * period + self.warmup_extra


def _info(name: str, signature: str, description: str, **kw: object) -> IndicatorInfo:
    fields: dict[str, object] = {
        "min_period": 1,
        "default_source": "close",
        "takes_source": True,
        "core": name,
        "output": "value",
        "warmup_factor": 1,
        "warmup_extra": 0,
    }
    fields.update(kw)
    return IndicatorInfo(name, signature, description, **fields)  # type: ignore[arg-type]


_HLC = {"default_source": None, "takes_source": False}
_DMI = {**_HLC, "min_period": 2, "core": "dmi"}

_DI_WARMUP = {"warmup_extra": 1}

#: Every indicator a rule may declare, by name.
KNOWN_INDICATORS: dict[str, IndicatorInfo] = {
    info.name: info
    for info in (
        _info(
            "adx",
            "adx(period)",
            "Wilder's Average Directional Index, 0..100: trend strength",
            **_DMI,
            output="adx",
            warmup_factor=2,
        ),
        _info(
            "plus_di",
            "plus_di(period)",
            "Wilder's +DI, 0..100: upward directional movement",
            **_DMI,
            **_DI_WARMUP,
            output="plus_di",
        ),
        _info(
            "minus_di",
            "minus_di(period)",
            "Wilder's -DI, 0..100: downward directional movement",
            **_DMI,
            **_DI_WARMUP,
            output="minus_di",
        ),
        _info(
            "rsi",
            "rsi([source,] period)",
            "Wilder's Relative Strength Index, 0..100",
            min_period=2,
            warmup_extra=1,
        ),
        _info(
            "ema",
            "ema([source,] period)",
            "exponential moving average, seeded with the SMA of the first period values",
        ),
        _info("sma", "sma([source,] period)", "simple moving average of the last period values"),
        _info(
            "atr",
            "atr(period)",
            "Wilder's Average True Range, in price units",
            **_HLC,
            warmup_extra=1,
        ),
        _info(
            "volume_avg",
            "volume_avg(period)",
            "simple moving average of volume (the same as sma(volume, period))",
            default_source="volume",
            takes_source=False,
            core="sma",
        ),
        _info(
            "highest",
            "highest([source,] period)",
            "highest value of the last period bars (default: highest high)",
            default_source="high",
        ),
        _info(
            "lowest",
            "lowest([source,] period)",
            "lowest value of the last period bars (default: lowest low)",
            default_source="low",
        ),
    )
}


def _any_case(words: list[str] | tuple[str, ...]) -> str:
    """``adx|atr`` as ``[aA][dD][xX]|[aA][tT][rR]``: ECMA-262 (JSON Schema) has no (?i)."""
    return "|".join(
        "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word) for word in sorted(words)
    )


def _spec_pattern() -> str:
    with_source = [name for name, info in KNOWN_INDICATORS.items() if info.takes_source]
    period_only = [name for name, info in KNOWN_INDICATORS.items() if not info.takes_source]
    source = _any_case(SOURCES)
    return (
        rf"^\s*(?:(?:{_any_case(with_source)})\s*\(\s*(?:(?:{source})\s*,\s*)?"
        rf"|(?:{_any_case(period_only)})\s*\(\s*)[0-9]+\s*\)\s*$"
    )


#: A regular expression for the JSON schema (portable: no inline flags): the shape of a
#: valid spec, any case; the period bounds are left to :func:`parse_indicator_spec`.
SPEC_PATTERN = _spec_pattern()


class IndicatorSpecError(UserInputError, ValueError):
    """An indicator specification cannot be understood; ``column`` points at the problem."""

    def __init__(self, text: str, column: int, reason: str, hint: str = "") -> None:
        self.text = text
        self.column = column  # 1-based, within `text`
        self.reason = reason
        self.hint = hint
        message = f"{reason} (column {column} of '{text}')"
        super().__init__(f"{message}; {hint}" if hint else message)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One parsed specification. ``key`` is its canonical text, e.g. ``ema(close, 9)``."""

    name: str
    source: str | None  # None for indicators that read high, low and close
    period: int
    key: str

    @property
    def info(self) -> IndicatorInfo:
        return KNOWN_INDICATORS[self.name]

    @property
    def output(self) -> str:
        """Which output of the shared computation this spec reads (``adx``, ``value`` ...)."""
        return self.info.output

    @property
    def core_key(self) -> str:
        """Specs with equal ``core_key`` share one computation (adx(14) and plus_di(14))."""
        info = self.info
        if info.core == "dmi":
            return f"dmi({self.period})"
        if info.core != self.name:
            return f"{info.core}({self.source}, {self.period})"
        return self.key

    @property
    def warmup(self) -> int:
        """Bars needed before the first value."""
        return self.info.warmup(self.period)

    @property
    def lookback(self) -> int:
        """Index of the first value in a batch result (TA-Lib's lookback)."""
        return self.warmup - 1


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "name", "number", "(", ")", ",", "other"
    text: str
    col: int  # 1-based


def parse_indicator_spec(text: str) -> IndicatorSpec:
    """Parse ``adx(14)``, ``ema(close, 9)``, ``highest(20)`` ...; IndicatorSpecError if wrong."""
    if not isinstance(text, str):
        kind = type(text).__name__
        raise IndicatorSpecError(
            str(text), 1, f"expected an indicator such as 'adx(14)', found a {kind}"
        )
    tokens = _tokenize(text)
    if not tokens:
        raise IndicatorSpecError(text, 1, "empty indicator", "write a call such as 'adx(14)'")
    info = _lookup(text, tokens)
    args = _arguments(text, tokens, info)
    return _build(text, info, args, tokens[-1])


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in re.finditer(r"[A-Za-z_]\w*|[-+.0-9][-+.\w]*|[(),]|\S", text):
        word = match.group()
        if word[0].isalpha() or word[0] == "_":
            kind = "name"
        elif word[0] in "-+.0123456789":
            kind = "number"
        else:
            kind = word if word in "()," else "other"
        tokens.append(_Token(kind, word, match.start() + 1))
    return tokens


def _lookup(text: str, tokens: list[_Token]) -> IndicatorInfo:
    first = tokens[0]
    if first.kind != "name":
        raise IndicatorSpecError(
            text,
            first.col,
            f"expected an indicator name, found '{first.text}'",
            "write a call such as 'adx(14)'",
        )
    name = first.text.lower()
    info = KNOWN_INDICATORS.get(name)
    if info is not None:
        return info
    if name in SOURCES:
        raise IndicatorSpecError(
            text,
            first.col,
            f"'{name}' is a bar field, not an indicator",
            f"read the bar's {name} directly, or average it with 'sma({name}, 20)'",
        )
    close = difflib.get_close_matches(name, list(KNOWN_INDICATORS), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(KNOWN_INDICATORS)
    raise IndicatorSpecError(text, first.col, f"unknown indicator '{first.text}'", hint)


def _arguments(text: str, tokens: list[_Token], info: IndicatorInfo) -> list[_Token]:
    """The argument tokens between the parentheses, one token per argument."""
    name = tokens[0]
    if len(tokens) < 2 or tokens[1].kind != "(":
        col = tokens[1].col if len(tokens) > 1 else name.col + len(name.text)
        raise IndicatorSpecError(
            text, col, f"expected '(' after '{info.name}'", f"write '{info.signature}'"
        )
    close = next((i for i, token in enumerate(tokens) if token.kind == ")"), None)
    if close is None:
        end = len(text.rstrip()) + 1
        raise IndicatorSpecError(text, end, "missing ')'", f"write '{info.signature}'")
    if close + 1 < len(tokens):
        extra = tokens[close + 1]
        raise IndicatorSpecError(text, extra.col, f"unexpected '{extra.text}' after ')'")
    inner = tokens[2:close]
    for position, token in enumerate(inner):
        _check_argument_token(text, token, expect_value=position % 2 == 0)
    if inner and inner[-1].kind == ",":
        raise IndicatorSpecError(text, tokens[close].col, "missing argument before ')'")
    return inner[::2]


def _check_argument_token(text: str, token: _Token, *, expect_value: bool) -> None:
    """Arguments alternate: a value (name or number), ',', a value."""
    if not expect_value:
        if token.kind != ",":
            raise IndicatorSpecError(
                text, token.col, f"unexpected '{token.text}'; expected ',' or ')'"
            )
    elif token.kind == ",":
        raise IndicatorSpecError(text, token.col, "missing argument before ','")
    elif token.kind not in ("name", "number"):
        raise IndicatorSpecError(
            text, token.col, f"unexpected '{token.text}'; expected a source or a period"
        )


def _build(text: str, info: IndicatorInfo, args: list[_Token], last: _Token) -> IndicatorSpec:
    source_token, period_token = _source_and_period(text, info, args, last)
    source = info.default_source if source_token is None else _source(text, info, source_token)
    period = _period(text, info, period_token)
    if info.takes_source:
        return IndicatorSpec(info.name, source, period, f"{info.name}({source}, {period})")
    return IndicatorSpec(info.name, source, period, f"{info.name}({period})")


def _source_and_period(
    text: str, info: IndicatorInfo, args: list[_Token], last: _Token
) -> tuple[_Token | None, _Token]:
    """Split the arguments into (source or None, period), refusing a wrong count or order."""
    if not args:
        raise IndicatorSpecError(
            text, last.col, f"{info.name} needs a period", f"write '{info.signature}'"
        )
    if len(args) > 2 or (len(args) == 2 and not info.takes_source):
        extra = args[2] if len(args) > 2 else args[0]
        reads = "a source and a period" if info.takes_source else _reads(info)
        raise IndicatorSpecError(
            text,
            extra.col,
            f"too many arguments for {info.name}: it takes {reads}",
            f"write '{info.signature}'",
        )
    if len(args) == 1:
        return None, args[0]
    if args[0].kind == "number" and args[1].kind == "name":
        raise IndicatorSpecError(
            text,
            args[0].col,
            "the source comes before the period",
            f"write '{info.name}({args[1].text}, {args[0].text})'",
        )
    return args[0], args[1]


def _reads(info: IndicatorInfo) -> str:
    if info.default_source is None:
        return "only a period (it reads high, low and close)"
    return f"only a period (it reads {info.default_source})"


def _source(text: str, info: IndicatorInfo, token: _Token) -> str:
    word = token.text.lower()
    if token.kind == "name" and word in SOURCES:
        return word
    close = difflib.get_close_matches(word, SOURCES, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"write '{info.signature}'"
    expected = ", ".join(SOURCES)
    raise IndicatorSpecError(
        text, token.col, f"unknown source '{token.text}' for {info.name}; expected {expected}", hint
    )


def _period(text: str, info: IndicatorInfo, token: _Token) -> int:
    if token.kind == "name":
        hint = f"write '{info.signature}'"
        if token.text.lower() in SOURCES and info.takes_source:
            hint = f"add the period: '{info.name}({token.text.lower()}, 20)'"
        raise IndicatorSpecError(
            text, token.col, f"expected a period (a whole number), found '{token.text}'", hint
        )
    bounds = f"from {info.min_period} to {MAX_PERIOD}"
    if re.fullmatch(r"[0-9]+", token.text) is None:
        raise IndicatorSpecError(
            text,
            token.col,
            f"the period of {info.name} must be a whole number {bounds}; was '{token.text}'",
        )
    period = int(token.text)
    if not info.min_period <= period <= MAX_PERIOD:
        raise IndicatorSpecError(
            text, token.col, f"the period of {info.name} must be {bounds}; was {period}"
        )
    return period
