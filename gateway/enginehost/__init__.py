"""Engine host: the matching-engine process, its journal tools and the drop copy."""
