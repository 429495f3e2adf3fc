"""Order entry: the SBE/FIXP gateway process, its credentials config, its admin endpoint and the SBE codec."""
