"""What a run reports: performance statistics computed from its closed trades.

Import the module you need: ``from engine.report.metrics import compute_metrics``.
"""

__all__: list[str] = []
