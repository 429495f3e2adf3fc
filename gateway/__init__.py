"""The venue's edges and its command line: order entry, market data, control plane, ops shell.

Run ``python -m gateway --help`` for the commands."""
