"""The outside world, behind the core's small interfaces.

Adapters implement what the core (``engine``) asks for and nothing else: the Angel One
SmartAPI broker and feed (``adapters.smartapi``), the paper broker (``adapters.paper``)
and replay feeds over stored history (``adapters.replay``). The core never imports this
package; only the command line wires an adapter in. Paper trading is an adapter, not a
flag in the core.
"""
