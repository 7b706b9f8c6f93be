"""Which paths of a repository Kodama may read: ``.gitignore`` and ``.kodamaignore`` rules and
the folders it always skips.

Pattern matching is git's own wildmatch as implemented by ``pathspec`` (``#`` comments, ``!``
negation, a trailing ``/`` for folders only, patterns with a ``/`` anchored to their file's
folder, ``*``, ``?``, ``[...]``, ``**``, escapes). What git adds on top of one file's patterns
lives here: every folder's ignore files apply below it, deeper files override shallower ones,
the last matching rule wins, and nothing inside an ignored folder can be brought back.
"""

from __future__ import annotations

from pathlib import Path

from pathspec import GitIgnoreSpec

__all__ = [
    "CODE_EXTENSIONS",
    "IGNORE_FILES",
    "SKIP_DIRS",
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


def parse_gitignore(text: str) -> GitIgnoreSpec:
    """The rules of one ignore file, matched against paths relative to its folder."""
    return GitIgnoreSpec.from_lines(text.splitlines())


def _decide(spec: GitIgnoreSpec, rel: str, is_dir: bool) -> bool | None:
    """``True`` ignored, ``False`` taken back by a ``!`` rule, ``None`` no rule matched."""
    return spec.check_file(rel + "/" if is_dir else rel).include


class Ignorer:
    """Decides whether a repository-relative path is ignored: default skips, every
    ``.gitignore`` on the way down (read lazily, cached), and extra ``exclude`` patterns."""

    def __init__(self, root: Path, exclude: tuple[str, ...] = ()) -> None:
        """Rules for the repository at ``root``; ``exclude`` holds gitignore-style patterns."""
        self.root = root
        self._exclude = parse_gitignore("\n".join(exclude))
        self._per_dir: dict[str, GitIgnoreSpec] = {}

    def rules_of(self, folder: str) -> GitIgnoreSpec:
        """The rules of ``folder``'s own ``.gitignore`` then ``.kodamaignore`` (cached)."""
        spec = self._per_dir.get(folder)
        if spec is None:
            lines: list[str] = []
            for name in IGNORE_FILES:
                path = self.root / folder / name if folder else self.root / name
                try:
                    if path.is_symlink():  # never read through a link (it may leave the tree)
                        continue
                    lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
            spec = self._per_dir[folder] = GitIgnoreSpec.from_lines(lines)
        return spec

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
            decided = _decide(self.rules_of("/".join(parts[:i])), "/".join(parts[i:]), is_dir)
            if decided is not None:
                verdict = decided
        decided = _decide(self._exclude, rel, is_dir)
        return verdict if decided is None else decided
