"""Angel One SmartAPI: REST client, login and session, orders, market data, instrument
master, the WebSocket 2.0 feed, and a loopback simulator that speaks the same wire formats.

Everything follows the wire contract (routes, headers, JSON keys, the three failure
envelopes, the binary tick layout); docs/smartapi.md describes the parts, the safety rules
they keep and the interfaces the runtime plugs into. Submodules are imported on use: this
package pulls in no network library by itself.
"""
