"""Regenerate the README's settings table from the configuration tree (kodama.server.config).

    .venv/bin/python scripts/readme_settings.py     # rewrites README.md in place
"""

from __future__ import annotations

import re
from pathlib import Path

from kodama.server.config import describe

README = Path(__file__).resolve().parent.parent / "README.md"
HEADER = "| setting | default | meaning |\n|---|---|---|\n"


def main() -> None:
    """Replace the rows under the settings table header."""
    text = README.read_text(encoding="utf-8")
    rows = "".join(f"| `{key}` | `{default}` | {doc} |\n" for key, default, doc in describe())
    pattern = re.compile(re.escape(HEADER) + r"(?:\|.*\|\n)*")
    if not pattern.search(text):
        raise SystemExit("README.md has no settings table header")
    README.write_text(pattern.sub(lambda _: HEADER + rows, text, count=1), encoding="utf-8")


if __name__ == "__main__":
    main()
