"""The run journal: an append-only record of every decision, order event, fill and transition.

It holds the values that decided each thing (the conditions' reads, the risk checks'
values), so ``engine explain`` can answer from it alone. See ``writer`` for the format.
"""

from engine.journal.writer import SCHEMA_VERSION, Journal, encode_record

__all__ = ["SCHEMA_VERSION", "Journal", "encode_record"]
