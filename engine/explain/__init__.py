"""``engine explain``: why a trade fired, why nothing traded at a moment, how near the rules
came, and where two runs parted, answered from a run's journal with the values that decided.

- ``journal``: locating, checking and indexing a journal;
- ``clauses``: the rules compiled again, traces rebuilt from recorded values, closeness;
- ``answers``: one function per question, each returning a JSON-ready dict;
- ``diff``: the first divergence between two journals;
- ``render``: those dicts as text for an 80-column terminal (colour only on a terminal).
"""
