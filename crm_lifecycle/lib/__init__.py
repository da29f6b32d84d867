"""Pure Python of the addon: rules, classifications, statistics and the texts that explain them.

Nothing here reads or writes the database: models/ hand plain values in and get plain values back,
so each rule is tested table by table without a database (tests/test_lib_*.py).
"""
