"""Trading costs: the dated table of Indian F&O charges and what an order pays under it.

Import the module you need: ``from engine.costs.charges import ChargesTable``.
"""

__all__: list[str] = []
