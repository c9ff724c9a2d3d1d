"""Allow ``python -m tui_monitor``."""

from tui_monitor.cli import main

raise SystemExit(main())
