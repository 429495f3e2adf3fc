"""Reports people read: the daily execution report and the weekly analysis, as HTML and PDF with
plots, from ``python -m trading report daily|weekly``."""
