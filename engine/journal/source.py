"""The rule file a run traded, carried in its journal's header.

``engine explain`` compiles the rules again to rebuild traces from recorded values; with
the text and its digest in the header it needs neither the file nor the hope that it was
not edited since.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["rules_source"]


def rules_source(path: str | Path) -> dict[str, Any]:
    """Header fields naming the rule file: its text and SHA-256 digest."""
    data = Path(path).read_bytes()
    return {"rules_sha256": hashlib.sha256(data).hexdigest(), "rules_text": data.decode("utf-8")}
