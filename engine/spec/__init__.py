"""Loading ``rules/`` and ``machines/`` YAML: schema validation and precise errors.

Every problem in a file is reported at once as a ``Diagnostic`` pointing at its line and
column (``rules/adx.yaml:14:9: error[unknown-name]: exits[2] 'stop_loss': ...``).
"""
