"""Kodama's example runner, run by the project's own interpreter in the sandbox (never imported
by Kodama): ``python _kodama_examples.py REQUEST.json``.

The request names the file whose documentation the examples belong to (relative to the
current folder, the scratch copy of the repository) and the documentation text. The module is
imported as the repository would import it (its dotted path, or under ``src/``, or from the
file itself), and the ``>>>`` examples run with its globals, as doctest runs a module's
examples. One JSON line per example goes to the sandbox's events file: its number, ``passed``,
``failed`` (with what it printed) or ``error`` (an exception nobody expected).

Standard library only: the project's interpreter may be any Python 3.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import json
import os
import sys
import traceback
from types import ModuleType
from typing import Any

import _kodama_sandbox  # noqa: F401  (no network unless allowed)


def _event(record: dict[str, Any]) -> None:
    path = os.environ.get("KODAMA_SANDBOX_EVENTS")
    if path:
        with open(path, "a", encoding="utf-8") as events:
            events.write(json.dumps(record) + "\n")


def _module(path: str) -> ModuleType:
    """The module of ``path`` as the repository imports it."""
    dotted = path[:-3].replace("/", ".").removesuffix(".__init__")
    attempts: list[str] = []
    for root, name in (("", dotted), ("src", dotted.removeprefix("src."))):
        if root == "src" and not dotted.startswith("src."):
            continue
        if root:
            sys.path.insert(0, os.path.abspath(root))
        try:
            return importlib.import_module(name)
        except Exception as exc:  # any import failure: try the next way
            attempts.append(f"{name}: {type(exc).__name__}: {exc}")
    spec = importlib.util.spec_from_file_location("_kodama_subject", path)
    if spec is None or spec.loader is None:
        raise ImportError("; ".join(attempts) or f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_kodama_subject"] = module
    spec.loader.exec_module(module)
    return module


class _Recorder(doctest.DocTestRunner):
    def __init__(self, examples: list[doctest.Example]) -> None:
        super().__init__(verbose=False, optionflags=doctest.NORMALIZE_WHITESPACE)
        self.numbers = {id(example): number for number, example in enumerate(examples)}

    def report_start(self, out: Any, test: Any, example: Any) -> None:
        pass

    def report_success(self, out: Any, test: Any, example: Any, got: str) -> None:
        _event({"event": "example", "number": self.numbers[id(example)], "outcome": "passed"})

    def report_failure(self, out: Any, test: Any, example: Any, got: str) -> None:
        _event({"event": "example", "number": self.numbers[id(example)], "outcome": "failed",
                "got": got})

    def report_unexpected_exception(self, out: Any, test: Any, example: Any,
                                    exc_info: Any) -> None:
        message = traceback.format_exception_only(exc_info[0], exc_info[1])[-1].strip()
        _event({"event": "example", "number": self.numbers[id(example)], "outcome": "error",
                "message": message})


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    sys.path.insert(0, os.getcwd())
    try:
        module = _module(request["file"])
    except BaseException as exc:  # a module that exits on import, too
        _event({"event": "import error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    parser = doctest.DocTestParser()
    test = parser.get_doctest(request["documentation"], dict(vars(module)), request["name"],
                              request["file"], 0)
    _Recorder(test.examples).run(test, out=lambda _text: None, clear_globs=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
