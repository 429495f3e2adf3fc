"""Regulation NMS: rule values with their effective dates (rules.py, rules.toml) and the checks
(checks.py) of Rules 610, 611 and 612."""
