"""Wire formats of SmartAPI: binary tick packets and the REST reply envelopes.

Pure functions over bytes and dicts, no I/O, so they are tested with hypothesis and
benchmarked on their own.
"""
