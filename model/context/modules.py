"""Which indexed files an import may name: the keys a file answers to, and an import's guesses.

A file answers an import by the tails of its path (``a/b/c.py`` → ``c``, ``b/c``, ``a/b/c``) and
its folder by the tails of the folder's path. An import is resolved against the importing file
when it is relative (``./util``, ``..pkg.mod``, ``"local.h"``), else by the tails of its module
path, longest first. Pure: no index state here, only the keys.
"""

from __future__ import annotations

import posixpath
import re

_MODULE_SPLIT_RE = re.compile(r"::|[./\\:]+")
_RELATIVE_EXTENSIONS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts", ".py", ".h",
                        ".hpp", "/index.ts", "/index.tsx", "/index.js", "/__init__.py")


def module_keys(path: str) -> list[str]:
    """Keys under which ``path`` answers an import (``a/b/c.py`` → ``c``, ``b/c``, ``a/b/c``).

    Package entry files (``__init__``, ``index``, ``mod``) also answer for their folder.
    """
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    parts = stem.split("/")
    if len(parts) > 1 and parts[-1] in ("__init__", "index", "mod", "lib"):
        parts = parts[:-1]
    return ["/".join(parts[-k:]) for k in range(1, min(4, len(parts)) + 1)]


def dir_keys(path: str) -> list[str]:
    """Keys under which the folder of ``path`` answers an import (``a/b/c.go`` → ``b``, ``a/b``)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[-k:]) for k in range(1, min(4, len(parts)) + 1)]


def relative_candidates(module: str, from_path: str) -> list[str]:
    """The paths a relative import of ``module`` in ``from_path`` may name, in order of
    preference (empty for an import that is not relative)."""
    folder = posixpath.dirname(from_path)
    if module.startswith("."):
        if module.startswith(("./", "../")) or module in (".", ".."):
            base = posixpath.normpath(posixpath.join(folder, module))
        else:  # Python relative import: one dot = this package
            dots = len(module) - len(module.lstrip("."))
            base = folder
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            rest = module[dots:].replace(".", "/")
            base = posixpath.join(base, rest) if rest else base
        return [base + ext for ext in _RELATIVE_EXTENSIONS]
    if "/" in module and not module.startswith(("@", "/")) and folder:
        return [posixpath.normpath(posixpath.join(folder, module))]
    return []


def module_tails(module: str) -> list[str]:
    """The keys an import of ``module`` is looked up by, longest first (``kodama.model.types``
    → ``kodama/model/types``, ``model/types``, ``types``)."""
    parts = [p for p in _MODULE_SPLIT_RE.split(module)
             if p and p not in ("crate", "self", "super", "@")]
    return ["/".join(parts[-k:]) for k in range(min(4, len(parts)), 0, -1)]
