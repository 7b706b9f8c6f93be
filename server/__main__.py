"""``python -m kodama.server`` is the ``kodama`` command."""

from kodama.server.commands.cli import main

raise SystemExit(main())
