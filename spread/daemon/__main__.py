"""Runs the embedded daemon: ``python -m spread.daemon --host H --port P``."""

from spread.daemon.cli import main

raise SystemExit(main())
