"""The ``engine`` command line: one module per command, imported only when used."""
