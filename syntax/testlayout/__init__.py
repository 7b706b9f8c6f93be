"""Where generated tests go: test framework, test file, imports, and merging.

The repository half of the "Generate tests" code action; no model is involved.

* :func:`detect_framework` reads a bounded sample of a repository (configuration files and
  existing tests, at most :data:`MAX_FILES` files, skipping ``.git``, dependencies, virtual
  environments, build output and ``.gitignore``-d paths) and names its test framework.
* :func:`plan_tests` decides where the tests of one symbol go and what they need: a
  :class:`TestPlan` with the test file, whether it exists, the header a new file starts with,
  the import lines, how the code under test is imported, and a one- or two-sentence style hint
  for the prompt.  The test file is always inside the repository, checked on the file system
  (:func:`check_target`: no ``..`` out, no symbolic link on the way), and the planners read
  nothing through a link.
* :func:`merge` (the resulting text) and :func:`merge_edits` (text and edits) put generated
  test code into the new or existing test file: import lines of the generated code are hoisted
  into the file's import block and de-duplicated against the imports already there (by bound
  name where the statement can be read, by text otherwise); the rest is appended (Python: two
  blank lines before it, and before a trailing ``if __name__ == "__main__":`` block; other
  languages: one blank line), or, for Rust and existing Java test classes, inserted before the
  closing brace of the test module / class.

The rooms:

* :mod:`.detect` — the only module that touches the file system: the bounded repository
  listing, the reads the planners make through it, and framework detection;
* :mod:`.python`, :mod:`.javascript` (with :mod:`.javascript_imports`), :mod:`.go`,
  :mod:`.rust`, :mod:`.java` — one per language: the test file's place and header, and merging;
* :mod:`.placement` — choosing a tests folder (Python and JavaScript / TypeScript);
* :mod:`.parsed` — parsing, with the roles of nodes (imports, definitions, package clauses, test
  modules …) given by the queries ``queries/testlayout/<language>.scm``;
* :mod:`.splice` — text surgery for merging; :mod:`.common` — the shared types;
* :mod:`.planning` and :mod:`.merging` — the entry points, choosing the language rules.

Layouts, per language:

* **Python** — an existing ``test_<module>.py`` (or ``<module>_test.py``) anywhere in the
  repository whose folders agree with the module's path wins.  Otherwise: next to the source
  when test files already sit there; else in the nearest ``tests/`` or ``test/`` folder (its
  ``unit/`` sub-folder when that holds tests), mirroring the package path when that folder has
  test files in sub-folders (``src/pkg/sub/mod.py`` → ``tests/sub/test_mod.py``, keeping the
  top-level package folder only when the tests folder has one); else next to the source when the
  repository keeps tests next to code; else ``<root>/tests/``.  The ``*_test.py`` naming is used
  when most existing test files use it.  The module's dotted name follows the ``__init__.py``
  chain (a ``src/`` folder, namespace packages and top-level files are handled).
* **JavaScript / TypeScript** — the test sits where most existing tests sit (next to the
  source, in a ``__tests__`` folder, or in a ``test/``/``tests/`` folder), named
  ``<name>.test.<ext>`` or ``<name>.spec.<ext>`` as most existing tests are, with the source's
  extension.  The import specifier is relative, without extension unless existing relative
  imports carry one (or the package is ``"type": "module"`` JavaScript / ``.mjs``), and the
  import syntax (ESM / CommonJS), quotes and semicolons follow the existing tests and source.
* **Go** — ``<file>_test.go`` next to the source, in the source's package (or the ``_test``
  package when the folder's existing tests all use it), importing ``testing``.
* **Rust** — unit tests in the source file itself: an existing inline ``mod tests { … }``
  (:attr:`TestPlan.insert_offset` is where new tests go, before its closing brace) or a new
  ``#[cfg(test)] mod tests { use super::*; … }`` appended to the file.  A ``mod tests;``
  declared out of line sends the tests to that module's file.
* **Java** — Maven/Gradle ``src/main/java/x/y/Foo.java`` → ``src/test/java/x/y/FooTest.java``
  (``test/`` beside ``src/`` for the older layout, else next to the source), same package.
* **C / C++** have no standard test layout: :class:`UnsupportedLanguageError`.

Offsets (:attr:`TestPlan.insert_offset`, :class:`Edit`) are ``str`` indices (code points).
Parsing uses tree-sitter; :class:`~kodama.syntax.languages.GrammarUnavailableError` propagates
when a grammar cannot be loaded.
"""

from __future__ import annotations

from .common import (
    FRAMEWORKS,
    SUPPORTED_LANGUAGES,
    Edit,
    Framework,
    Merged,
    OutsideRepositoryError,
    TestPlan,
    UnsupportedLanguageError,
    apply_edits,
)
from .detect import MAX_FILES, check_target, detect_framework
from .merging import merge, merge_edits
from .planning import plan_tests

__all__ = [
    "FRAMEWORKS",
    "MAX_FILES",
    "SUPPORTED_LANGUAGES",
    "Edit",
    "Framework",
    "Merged",
    "OutsideRepositoryError",
    "TestPlan",
    "UnsupportedLanguageError",
    "apply_edits",
    "check_target",
    "detect_framework",
    "merge",
    "merge_edits",
    "plan_tests",
]
