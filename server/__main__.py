"""``python -m kodama.server`` is the ``kodama`` command."""

from kodama.server.cli import main

raise SystemExit(main())
