"""Which files of a repository to index: ``.gitignore`` and ``.kodamaignore`` rules, default
skips, caps.

A small implementation of gitignore patterns (no dependency): ``#`` comments, ``!`` negation,
a trailing ``/`` for directories only, patterns with a ``/`` anchored to their ``.gitignore``'s
folder, ``*``, ``?``, ``[...]`` and ``**``. The last matching rule wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CODE_EXTENSIONS",
    "IGNORE_FILES",
    "SKIP_DIRS",
    "IgnoreRule",
    "Ignorer",
    "parse_gitignore",
]

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs", "build", "dist", "target",
    "bower_components", ".idea", ".vscode", ".gradle", ".next", ".nuxt", ".cache",
    "site-packages", "vendor", "third_party", "_build", "coverage", ".terraform",
    "vendored", "_vendor", "third-party", "external", "out", "htmlcov",
})
"""Folders never indexed (version control, dependencies, virtual environments, build output)."""

IGNORE_FILES = (".gitignore", ".kodamaignore")
"""Files of ignore rules read in every folder: git's, then Kodama's own (same syntax; what it
names is neither indexed for context nor trained on; ``!`` can take back a git-ignored path)."""

CODE_EXTENSIONS = frozenset({
    ".rb", ".php", ".kt", ".kts", ".swift", ".cs", ".scala", ".lua", ".sh", ".m", ".mm",
    ".dart", ".ex", ".exs", ".hs", ".ml", ".r", ".jl", ".zig", ".vue", ".svelte", ".sql",
})
"""Source files without a tree-sitter grammar here: indexed for retrieval only."""


@dataclass(frozen=True)
class IgnoreRule:
    """One gitignore pattern, compiled."""

    base: str
    """Folder of the ``.gitignore`` (repository-relative, ``""`` for the root)."""
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether the rule applies to repository-relative ``path``."""
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not path.startswith(self.base + "/"):
                return False
            path = path[len(self.base) + 1 :]
        return self.regex.fullmatch(path) is not None


def _translate(pattern: str) -> str:
    """Regex for a gitignore glob (``**`` across folders, ``*`` within one)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        elif ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def parse_gitignore(text: str, base: str = "") -> list[IgnoreRule]:
    """The rules of a ``.gitignore`` in folder ``base`` (repository-relative)."""
    rules: list[IgnoreRule] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            line += " "
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate or line.startswith("\\"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        regex = _translate(line)
        if not anchored:
            regex = "(?:.*/)?" + regex
        rules.append(IgnoreRule(base, re.compile(regex), negate, dir_only))
    return rules


class Ignorer:
    """Decides whether a repository-relative path is ignored: default skips, every
    ``.gitignore`` on the way down (read lazily, cached), and extra ``exclude`` patterns."""

    def __init__(self, root: Path, exclude: tuple[str, ...] = ()) -> None:
        """Rules for the repository at ``root``; ``exclude`` holds gitignore-style patterns."""
        self.root = root
        self._exclude = [r for p in exclude for r in parse_gitignore(p)]
        self._per_dir: dict[str, list[IgnoreRule]] = {}

    def rules_of(self, folder: str) -> list[IgnoreRule]:
        """The rules of ``folder``'s own ``.gitignore`` and ``.kodamaignore``, in that order
        (cached)."""
        rules = self._per_dir.get(folder)
        if rules is None:
            rules = []
            for name in IGNORE_FILES:
                path = self.root / folder / name if folder else self.root / name
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                rules += parse_gitignore(text, folder)
            self._per_dir[folder] = rules
        return rules

    def forget(self, folder: str) -> None:
        """Re-read ``folder``'s ``.gitignore`` next time (it changed)."""
        self._per_dir.pop(folder, None)

    @staticmethod
    def skipped_dir(name: str, path: Path | None = None) -> bool:
        """Folders never indexed, by name (and virtual environments, by their marker)."""
        if name in SKIP_DIRS or name.endswith(".egg-info"):
            return True
        return path is not None and (path / "pyvenv.cfg").is_file()

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Whether ``rel`` (``/`` separators) is excluded, git-ignored or in a skipped folder.

        A path inside an ignored folder is ignored (as in git, a negated pattern cannot bring
        it back).
        """
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.skipped_dir(parts[i - 1]) or self.verdict("/".join(parts[:i]), True):
                return True
        if is_dir and self.skipped_dir(parts[-1]):
            return True
        return self.verdict(rel, is_dir)

    def verdict(self, rel: str, is_dir: bool) -> bool:
        """The rules' verdict on ``rel`` itself (its folders are assumed not ignored)."""
        verdict = False
        parts = rel.split("/")
        for i in range(len(parts)):
            for rule in self.rules_of("/".join(parts[:i])):
                if rule.matches(rel, is_dir):
                    verdict = not rule.negate
        for rule in self._exclude:
            if rule.matches(rel, is_dir):
                verdict = not rule.negate
        return verdict
