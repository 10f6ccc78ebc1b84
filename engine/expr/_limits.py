"""Limits of the expression language, as named constants tests can import.

CPython's own parser fails on hostile input (deep parentheses, long unary chains, long
operator chains) with SyntaxError, MemoryError or RecursionError; these limits are checked
before and after parsing so such input gets our message instead.
"""

from simpleeval import MAX_POWER as SIMPLEEVAL_MAX_POWER

#: Longest expression source accepted, in characters.
MAX_SOURCE_LENGTH = 4000
#: Deepest nesting of brackets and of the parsed tree.
MAX_DEPTH = 40
#: Most AST nodes in one expression.
MAX_NODES = 400
#: Longest string literal, in characters.
MAX_STRING_LITERAL = 200
#: Largest base or exponent of ``**``, as simpleeval bounds it.
MAX_POWER = SIMPLEEVAL_MAX_POWER
#: Largest absolute result of a ``**`` with constant operands accepted at load time.
MAX_CONSTANT_POWER_RESULT = 1e18
#: Most digits of ``round(x, n)``.
MAX_ROUND_DIGITS = 12
#: Largest magnitude of any number the language holds: a literal, a parameter, or the result
#: of an operation. Beyond it (or not finite) a literal or parameter is refused at load, and
#: a result at run time is missing with the reason: the largest finite float.
MAX_MAGNITUDE = 1.7976931348623157e308
