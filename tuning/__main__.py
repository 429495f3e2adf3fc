"""``python -m tuning``: see tuning/cli.py."""
import sys

from tuning.cli import main

sys.exit(main())
