"""``python -m spreadgate`` is the ``spreadgate`` command."""

import sys

from spreadgate.cli import main

sys.exit(main())
