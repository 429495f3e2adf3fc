"""Several venues in one deployment: the multi-venue configuration (config.py), the per-venue
delay line (delay_line.py), the TOML form of a derived single-venue config (toml_text.py) and the
start-up of all of them (up.py)."""
