"""Docstring generation on real repositories (issue #4): ROUGE-L, convention compliance, parsing.

One command, one Markdown table. For Python functions and methods of real packages that already
have a docstring (default: the sdists of flask 3.1.3 and requests 2.34.2, fetched with ``pip
download`` into ``~/.cache/kodama-bench/sdists`` on first use; ``--repo PATH`` for others):

1. remove the docstring from the file (the body stays valid: ``pass`` when it was all there was);
2. ask Kodama's own task layer for one, exactly as ``kodama docstring FILE:LINE`` does —
   ``subject_at`` with the repository's definitions as context (an index of the repository in
   which the sampled file holds the stripped text), ``docstring.request`` (the answer is
   started for the model and ends where the docstring closes), the engine,
   ``docstring.finish`` in the repository's convention (``detect_convention`` over the package's
   docstrings);
3. read the docstring back from the edited file and score it against the original: ROUGE-L F1
   (``rouge-score``, stemmed), the parameters documented, the return value, the convention's
   syntax, and whether the edited file still parses.

    .venv/bin/python benchmarks/docstrings.py                       # 20 functions per repository
    .venv/bin/python benchmarks/docstrings.py --per-repo 3 --json out.json
    .venv/bin/python benchmarks/docstrings.py --repo ~/src/myproject --no-context

Sampled: functions and methods (not classes) of the package source — not tests, docs, examples
or build scripts — whose docstring has a summary, at most ``--max-lines`` lines long; dunder
methods are left out except ``__init__`` (their docstrings say little that ROUGE could measure).
``rouge-score`` is a benchmark dependency: ``.venv/bin/pip install -e '.[dev,bench]'``.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    DEFAULT_SDISTS,
    SDIST_CACHE,
    Summary,
    log,
    ms,
)
from benchmarks.common import (  # noqa: E402  (re-exported: the tests import it from here)
    sdist_folders as sdist_folders,
)
from kodama.model.tasks import docparts  # noqa: E402
from kodama.model.tasks.subject import Subject  # noqa: E402
from kodama.syntax import docstrings  # noqa: E402
from kodama.syntax.docstrings import Target  # noqa: E402

INSTALL_HINT = ".venv/bin/pip install -e '.[dev,bench]'"
"""The command that installs the benchmark's dependencies (``rouge-score``)."""

MAX_LINES = 120
"""Longer functions are not sampled (the task shows long code with its middle left out)."""

SKIPPED_DIRS = frozenset({
    "test", "tests", "testing", "doc", "docs", "example", "examples", "benchmark", "benchmarks",
    "scripts", "build", "dist", "site-packages", "node_modules", "venv", "__pycache__",
})
"""Folders whose files are not package source."""

SKIPPED_FILES = frozenset({"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "conf.py"})


# ------------------------------------------------------------------------ repositories
def is_package_source(rel: str) -> bool:
    """Whether repository-relative ``rel`` is a Python file of the package itself (not a test,
    doc, example, build script or hidden folder)."""
    path = PurePosixPath(rel)
    if path.suffix != ".py" or path.name in SKIPPED_FILES:
        return False
    if path.name.startswith("test_") or path.stem.endswith("_test"):
        return False
    return not any(part in SKIPPED_DIRS or part.startswith(".") for part in path.parts[:-1])


def package_files(root: Path) -> list[tuple[str, str]]:
    """(repository-relative path, text with ``\\n`` newlines) of the package's Python files,
    sorted."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not is_package_source(rel) or path.is_symlink():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found.append((rel, text.replace("\r\n", "\n")))
    return found


def repository_convention(files: Iterable[tuple[str, str]]) -> str:
    """The docstring convention of the files (``detect_convention`` over all their docstrings)."""
    found: list[str] = []
    for _rel, text in files:
        found.extend(docstrings.python_docstrings(text))
    convention: str = docstrings.detect_convention(found)
    return convention


# ---------------------------------------------------------------------- stripping
@dataclass(frozen=True)
class Stripped:
    """A file with one function's docstring removed."""

    text: str
    start: int
    """Code-point range of the original text that was removed or replaced."""
    end: int


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    return starts


def _offset(text: str, starts: Sequence[int], lineno: int, col_bytes: int) -> int:
    """Code-point offset of ast's (1-based line, UTF-8 byte column)."""
    start = starts[lineno - 1]
    end = starts[lineno] if lineno < len(starts) else len(text)
    return start + len(text[start:end].encode("utf-8")[:col_bytes].decode("utf-8", "replace"))


def _function_node(
    tree: ast.AST, name: str, row: int
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name \
                and node.lineno - 1 == row:
            return node
    return None


def strip_docstring(text: str, name: str, row: int) -> Stripped | None:
    """``text`` without the docstring of function ``name`` defined on (0-based) line ``row``.

    A docstring on lines of its own is removed with those lines (and the blank lines right
    after it when code follows); one that was the whole body becomes ``pass`` at its
    indentation; ``'doc'; x`` keeps ``x``; ``def f(): 'doc'`` becomes ``def f(): pass``.
    None when the function is not found, has no docstring, or the result would not parse.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    node = _function_node(tree, name, row)
    if node is None or not node.body:
        return None
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return None
    assert first.end_lineno is not None and first.end_col_offset is not None
    starts = _line_starts(text)
    doc_start = _offset(text, starts, first.lineno, first.col_offset)
    doc_end = _offset(text, starts, first.end_lineno, first.end_col_offset)
    line_start = starts[first.lineno - 1]
    line_end = text.find("\n", doc_end)
    line_end = len(text) if line_end < 0 else line_end
    before, after = text[line_start:doc_start], text[doc_end:line_end]
    alone = len(node.body) == 1
    semicolon = re.match(r"\s*;\s*", after)
    if semicolon and after[semicolon.end():].strip() and not after[semicolon.end():].lstrip(
            ).startswith("#"):
        start, end, new = doc_start, doc_end + semicolon.end(), ""  # `'doc'; x = 1`
    elif before.strip():  # `def f(): 'doc'` (alone: anything else would not parse)
        start, end, new = doc_start, doc_end, "pass"
    elif alone:
        start, end, new = doc_start, line_end, "pass"  # keeps the indentation, drops comments
    else:
        start = line_start
        end = min(line_end + 1, len(text))
        while True:  # the blank lines between the docstring and the code
            following = text.find("\n", end)
            if following < 0 or text[end:following].strip():
                break
            end = following + 1
        new = ""
    stripped = text[:start] + new + text[end:]
    try:
        ast.parse(stripped)
    except SyntaxError:
        return None
    return Stripped(stripped, start, end)


# ---------------------------------------------------------------------- sampling
@dataclass(frozen=True)
class Candidate:
    """A documented function of a repository, ready to be documented again."""

    path: str
    name: str
    kind: str
    row: int
    """0-based line of the name."""
    original: str
    """The docstring, cleaned like ``help()`` shows it."""
    text: str
    """The whole file, as it is."""
    stripped: Stripped
    offset: int
    """Code-point offset of the function's name (the same in both texts)."""
    lines: int


def is_sampled_name(name: str) -> bool:
    """Dunder methods are left out, except ``__init__``."""
    return name == "__init__" or not (name.startswith("__") and name.endswith("__"))


def candidates(rel: str, text: str, max_lines: int = MAX_LINES) -> list[Candidate]:
    """The functions and methods of one file that the benchmark may sample."""
    found = []
    data = text.encode("utf-8")
    starts = _line_starts(text)
    for target in docstrings.targets("python", text):
        if target.kind == "class" or target.docstring is None or not is_sampled_name(target.name):
            continue
        if not docparts.parse(target.docstring).summary:
            continue
        code = data[target.start_byte:target.end_byte].decode("utf-8", "replace")
        lines = code.count("\n") + 1
        if lines > max_lines:
            continue
        stripped = strip_docstring(text, target.name, target.line)
        if stripped is None:
            continue
        column = text[starts[target.line]:].find(target.name)
        found.append(Candidate(rel, target.name, target.kind, target.line,
                               inspect.cleandoc(target.docstring), text, stripped,
                               starts[target.line] + max(column, 0), lines))
    return found


def sample(pool: Sequence[Candidate], count: int, seed: int) -> list[Candidate]:
    """``count`` candidates drawn without replacement (seeded; order of ``pool`` irrelevant),
    returned in file order."""
    ordered = sorted(pool, key=lambda c: (c.path, c.row, c.name))
    if count >= len(ordered):
        return ordered
    chosen = random.Random(seed).sample(range(len(ordered)), count)
    return [ordered[i] for i in sorted(chosen)]


# ----------------------------------------------------------------------- scoring
_STYLES = {
    "rest": re.compile(r"^[ \t]*:(?:param|parameter|arg|argument|key|keyword|type|returns?|rtype"
                       r"|raises?|except|exception|yields?|ytype)\b[^:\n]*:", re.MULTILINE),
    "google": re.compile(r"^[ \t]*(?:Args|Arguments|Params|Keyword Args|Keyword Arguments"
                         r"|Parameters|Returns?|Yields?|Raises)[ \t]*:[ \t]*$", re.MULTILINE),
    "numpy": re.compile(r"^[ \t]*(?:Parameters|Other Parameters|Returns|Yields|Raises)[ \t]*\n"
                        r"[ \t]*-{3,}[ \t]*$", re.MULTILINE),
    "tags": re.compile(r"^[ \t]*@(?:param|arg|returns?|throws|raises)\b", re.MULTILINE),
}
"""The field syntax of each convention (``tags``: JSDoc/Javadoc, never right in Python)."""


def styles_used(doc: str) -> set[str]:
    """The conventions whose field syntax appears in ``doc``."""
    return {name for name, pattern in _STYLES.items() if pattern.search(doc)}


def _name(param: str) -> str:
    return param.strip().lstrip("*")


def documents_return(doc: str) -> bool:
    """Whether ``doc`` documents a return value (a Returns/Yields section or field, ``:rtype:``)."""
    return bool(docparts.parse(doc).returns) or re.search(
        r"^[ \t]*:(?:rtype|ytype)\s*:", doc, re.MULTILINE) is not None


@dataclass(frozen=True)
class Compliance:
    """How a generated docstring documents the function, against the original and the code."""

    original_params: tuple[str, ...]
    """Parameters the original documents that the signature has."""
    original_other: tuple[str, ...]
    """Names the original documents as parameters that the signature lacks (``**kwargs``
    keys, stale names): no generated docstring can match them, so they are not counted."""
    generated_params: tuple[str, ...]
    kept: tuple[str, ...]
    """Original parameters that the generated docstring documents too."""
    invented: tuple[str, ...]
    """Generated parameters that the signature lacks."""
    original_returns: bool
    generated_returns: bool
    returns_value: bool
    """The code returns (or yields) a value."""
    syntax_ok: bool
    """Fields written in the repository's convention and in no other."""

    @property
    def all_kept(self) -> bool:
        """(a) every parameter the original documents is documented."""
        return len(self.kept) == len(self.original_params)

    @property
    def none_invented(self) -> bool:
        """(b) no documented parameter that the signature lacks."""
        return not self.invented

    @property
    def returns_match_original(self) -> bool:
        """(c) a return value documented iff the original documents one."""
        return self.generated_returns == self.original_returns

    @property
    def returns_match_code(self) -> bool:
        """(c') a return value documented iff the function returns one."""
        return self.generated_returns == self.returns_value


def syntax_ok(doc: str, convention: str) -> bool:
    """(d) ``doc`` writes its fields in ``convention`` (and no other); prose alone is fine when
    it documents no field. ``plain``: no field syntax at all."""
    used = styles_used(doc)
    if convention == "plain":
        return not used
    if used - {convention}:
        return False
    parts = docparts.parse(doc)
    return convention in used or not (parts.params or parts.returns or parts.raises)


def compliance(original: str, generated: str, *, parameters: Sequence[str], returns_value: bool,
               convention: str) -> Compliance:
    """Score ``generated`` against ``original`` and the code (signature ``parameters``, whether
    a value is returned) in the repository's ``convention``."""
    signature = {_name(p) for p in parameters}
    documented = list(dict.fromkeys(_name(p) for p in docparts.parse(original).params))
    written = list(dict.fromkeys(_name(p) for p in docparts.parse(generated).params))
    original_params = tuple(p for p in documented if p in signature)
    return Compliance(
        original_params=original_params,
        original_other=tuple(p for p in documented if p not in signature),
        generated_params=tuple(written),
        kept=tuple(p for p in original_params if p in written),
        invented=tuple(p for p in written if p not in signature),
        original_returns=documents_return(original),
        generated_returns=documents_return(generated),
        returns_value=returns_value,
        syntax_ok=syntax_ok(generated, convention),
    )


_PLACEHOLDERS = ("<one-line summary", "<optional:", "<parameter>", "<what it", "<exception>")
"""Pieces of the docstring prompt's layout that a model may copy instead of filling in."""


def leaks(doc: str, name: str) -> list[str]:
    """What does not belong in documentation text: ``code`` (the function's own ``def name(``
    header, any case: a copy of the code), ``quotes`` (a triple quote: a docstring inside the
    docstring), ``fence`` (a Markdown code fence), ``placeholder`` (the prompt's layout copied).
    Examples with other definitions are fine (flask's docstrings have them)."""
    found = []
    if re.search(rf"\bdef\s+{re.escape(name)}\s*\(", doc, re.IGNORECASE):
        found.append("code")
    if '"""' in doc or "'''" in doc:
        found.append("quotes")
    if "```" in doc:
        found.append("fence")
    if any(p in doc for p in _PLACEHOLDERS):
        found.append("placeholder")
    return found


def parses(text: str) -> bool:
    """Whether ``text`` is valid Python (``ast.parse``)."""
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def rouge_scorer() -> Callable[[str, str], float]:
    """ROUGE-L F1 of (reference, generated), stemmed; SystemExit naming the install command
    when ``rouge-score`` is missing."""
    try:
        from rouge_score import rouge_scorer as rs
    except ImportError:
        raise SystemExit("the docstring benchmark needs rouge-score (a benchmark dependency): "
                         f"run {INSTALL_HINT}") from None
    scorer = rs.RougeScorer(["rougeL"], use_stemmer=True)

    def score(reference: str, generated: str) -> float:
        result = scorer.score(inspect.cleandoc(reference), inspect.cleandoc(generated))
        return float(result["rougeL"].fmeasure)

    return score


# ----------------------------------------------------------------------- records
@dataclass
class Record:
    """One sampled function: what was generated and how it scored."""

    repo: str
    path: str
    name: str
    kind: str
    line: int
    """1-based line of the name."""
    convention: str
    original: str
    generated: str | None = None
    answer: str = ""
    """The model's raw answer."""
    failure: str | None = None
    """Why no docstring came out: ``no usable answer`` (no summary in it), ``breaks syntax``
    (the task layer refused the edit and it does not parse), ``refused (parses)`` (refused,
    yet ``ast`` parses it), ``edit misplaced`` (no docstring where it belongs afterwards),
    ``not a target``, ``error: …``."""
    rouge_l: float | None = None
    compliance: dict[str, Any] | None = None
    parses: bool | None = None
    """Whether the edited file parses; None when no edit was made (an unusable answer)."""
    leaks: list[str] | None = None
    """What the generated docstring holds that is not documentation (:func:`leaks`)."""
    snippets: int = 0
    prompt_tokens: int = 0
    tokens: int = 0
    generation_ms: float = 0.0
    prefill_ms: float = 0.0
    decode_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def score_record(record: Record, edited: str | None, generated: str | None, target: Target,
                 score: Callable[[str, str], float]) -> None:
    """Fill ``record``'s scores from the edited text and the docstring read back from it."""
    record.parses = None if edited is None else parses(edited)
    if edited is not None and not record.parses and record.failure is None:
        record.failure = "breaks syntax"
    if generated is None:
        return
    record.generated = generated
    record.rouge_l = round(score(record.original, generated), 4)
    result = compliance(record.original, generated, parameters=target.parameters,
                        returns_value=target.returns_value, convention=record.convention)
    record.leaks = leaks(generated, record.name)
    record.compliance = {**asdict(result), "all_kept": result.all_kept,
                         "none_invented": result.none_invented,
                         "returns_match_original": result.returns_match_original,
                         "returns_match_code": result.returns_match_code}


def _share(hits: int, total: int) -> dict[str, Any]:
    return {"hits": hits, "total": total, "share": hits / total if total else None}


def summarize(records: Sequence[Record]) -> dict[str, Any]:
    """Aggregate figures of ``records`` (see the README's column list)."""
    scored = [r for r in records if r.rouge_l is not None]
    rouge = [r.rouge_l for r in scored if r.rouge_l is not None]
    comp = [r.compliance for r in scored if r.compliance is not None]
    edits = [r for r in records if r.parses is not None]
    latencies = [r.generation_ms for r in records if r.generation_ms > 0]
    lat = Summary.of(latencies)
    return {
        "n": len(records),
        "generated": len(scored),
        "rouge_l_mean": statistics.fmean(rouge) if rouge else None,
        "rouge_l_median": statistics.median(rouge) if rouge else None,
        "param_recall": _share(sum(len(c["kept"]) for c in comp),
                               sum(len(c["original_params"]) for c in comp)),
        "all_params_kept": _share(sum(c["all_kept"] for c in comp), len(comp)),
        "param_precision": _share(sum(len(c["generated_params"]) - len(c["invented"])
                                      for c in comp),
                                  sum(len(c["generated_params"]) for c in comp)),
        "no_invented_param": _share(sum(c["none_invented"] for c in comp), len(comp)),
        "returns_match_original": _share(sum(c["returns_match_original"] for c in comp),
                                         len(comp)),
        "returns_match_code": _share(sum(c["returns_match_code"] for c in comp), len(comp)),
        "syntax_ok": _share(sum(c["syntax_ok"] for c in comp), len(comp)),
        "clean": _share(sum(not r.leaks for r in scored), len(scored)),
        "leaks": dict(Counter(leak for r in scored for leak in r.leaks or ())),
        "parses": _share(sum(bool(r.parses) for r in edits), len(edits)),
        "latency_ms": {"n": lat.n, "p50": lat.p50, "p95": lat.p95, "mean": lat.mean},
        "tokens_mean": statistics.fmean([r.tokens for r in records]) if records else None,
        "failures": dict(Counter(r.failure for r in records if r.failure is not None)),
    }


def _pct(share: dict[str, Any]) -> str:
    if not share["total"]:
        return "–"
    return f"{100 * share['hits'] / share['total']:.0f} % ({share['hits']}/{share['total']})"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


COLUMNS = ("repository", "n", "ROUGE-L mean", "ROUGE-L median", "param recall",
           "all params kept", "param precision", "no invented param", "returns = original",
           "returns = code", "convention syntax", "clean text", "parses", "p50 ms", "p95 ms",
           "failures")


def table_row(label: str, summary: dict[str, Any]) -> str:
    """One Markdown table row (columns :data:`COLUMNS`)."""
    failures = ", ".join(f"{reason} {count}" for reason, count in
                         sorted(summary["failures"].items())) or "none"
    lat = summary["latency_ms"]
    cells = [label, str(summary["n"]), _num(summary["rouge_l_mean"]),
             _num(summary["rouge_l_median"]), _pct(summary["param_recall"]),
             _pct(summary["all_params_kept"]), _pct(summary["param_precision"]),
             _pct(summary["no_invented_param"]), _pct(summary["returns_match_original"]),
             _pct(summary["returns_match_code"]), _pct(summary["syntax_ok"]),
             _pct(summary["clean"]), _pct(summary["parses"]), ms(lat["p50"]), ms(lat["p95"]),
             failures]
    return "| " + " | ".join(cells) + " |"


def markdown_table(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The table: one row per (label, :func:`summarize` result)."""
    return "\n".join(["| " + " | ".join(COLUMNS) + " |",
                      "|" + "---|" * len(COLUMNS),
                      *(table_row(label, summary) for label, summary in rows)])


def judge(record: Record, subject: Subject, answer: str, offset: int,
          score: Callable[[str, str], float]) -> None:
    """Turn the model's ``answer`` into the edit through the task layer (``docstring.finish``
    in ``record.convention``), read the docstring back from the edited file (the function's
    name is at code-point ``offset``) and score it into ``record``."""
    from kodama.model.errors import TaskError
    from kodama.model.tasks import docstring
    from kodama.model.tasks.subject import subject_at

    text, convention = subject.text, record.convention
    edited: str | None = None
    generated: str | None = None
    try:
        edited = docstrings.apply(text, docstring.finish(subject, answer, convention))
    except TaskError as exc:
        record.extra["task_error"] = str(exc)
        try:  # which step refused: the answer (no summary) or the edit (syntax)?
            body = docstring.body(subject, answer, convention)
        except TaskError:
            record.failure = "no usable answer"
        else:  # the edit was refused: would it really break the file?
            edit = docstrings.render(subject.target, text, body, convention=convention)
            edited = docstrings.apply(text, edit)
            record.failure = "breaks syntax" if not parses(edited) else "refused (parses)"
    if edited is not None and record.failure is None:
        after = subject_at("python", edited, offset, path=subject.path)
        if after is None or after.name != subject.name or after.target.docstring is None:
            record.failure = "edit misplaced"
        else:
            generated = after.target.docstring
    score_record(record, edited, generated, subject.target, score)


# ----------------------------------------------------------------------- the run
def run_repository(root: Path, args: argparse.Namespace, engine: Any,
                   score: Callable[[str, str], float]) -> list[Record]:
    """Sample, generate and score the functions of one repository."""
    from kodama.model.tasks import docstring
    from kodama.model.tasks.generate import run_chat
    from kodama.model.tasks.subject import subject_at

    repo = root.name
    files = package_files(root)
    convention = args.convention
    if convention == "auto":
        convention = repository_convention(files)
    pool = [c for rel, text in files for c in candidates(rel, text, args.max_lines)]
    chosen = sample(pool, args.per_repo, args.seed)
    log(f"{repo}: {len(files)} package files, {len(pool)} documented functions, "
        f"{len(chosen)} sampled; convention {convention}")
    index = context = None
    if not args.no_context and engine is not None:
        from kodama.model.context.index import WorkspaceIndex
        from kodama.model.context.provider import RepositoryContext

        index = WorkspaceIndex(root, persist=False)
        log(f"{repo}: indexing for repository context ... {index.build().summary()}")
        context = RepositoryContext(index)
    records: list[Record] = []
    for number, cand in enumerate(chosen, 1):
        text = cand.stripped.text
        record = Record(repo, cand.path, cand.name, cand.kind, cand.row + 1, convention,
                        cand.original)
        records.append(record)
        bare = subject_at("python", text, cand.offset, path=cand.path)
        if bare is None or bare.name != cand.name or bare.target.docstring is not None:
            record.failure = "not a target"
            continue
        snippets: tuple[Any, ...] = ()
        if index is not None and context is not None:
            index.update(cand.path, text)  # the index holds the stripped file
            context.forget(cand.path)
            snippets = context.snippets(cand.path, text, bare.middle)
        subject = subject_at("python", text, cand.offset, path=cand.path, context=snippets)
        assert subject is not None
        record.snippets = len(snippets)
        try:
            if engine is None:  # --oracle: the original docstring is the answer
                record.answer = cand.original
            else:
                started = time.perf_counter()
                generations: list[Any] = []

                def ask(request: Any, generations: list[Any] = generations) -> str:
                    generations.append(run_chat(engine, request))
                    return str(generations[-1].text)

                record.answer = docstring.full_answer(subject, ask)
                record.generation_ms = (time.perf_counter() - started) * 1000
                record.prompt_tokens = generations[0].prompt_tokens
                record.tokens = sum(g.tokens for g in generations)
                generation = generations[-1]
                record.prefill_ms = generation.prefill_ms
                record.decode_ms = generation.decode_ms
        except Exception as exc:  # recorded, the run goes on
            record.failure = f"error: {type(exc).__name__}"
            record.extra["error"] = str(exc)
            continue
        finally:
            if index is not None:
                index.refresh(cand.path)
        try:
            judge(record, subject, record.answer, cand.offset, score)
        except Exception as exc:
            record.failure = f"error: {type(exc).__name__}"
            record.extra["error"] = str(exc)
        shown = "–" if record.rouge_l is None else f"{record.rouge_l:.3f}"
        log(f"{repo} [{number}/{len(chosen)}] {cand.path}:{record.line} {cand.name}: "
            f"ROUGE-L {shown}, {record.tokens} tokens, {record.generation_ms:.0f} ms"
            + (f", {record.failure}" if record.failure else ""))
    return records


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", action="append", type=Path, default=None, metavar="PATH",
                        help="a repository folder to sample (repeatable); default: the sdists of "
                        + " and ".join(f"{n} {v}" for n, v in DEFAULT_SDISTS)
                        + ", fetched into --cache")
    parser.add_argument("--cache", type=Path, default=SDIST_CACHE,
                        help="where the default sdists are downloaded and unpacked "
                        "(default: %(default)s)")
    parser.add_argument("--per-repo", type=int, default=20, metavar="N",
                        help="functions sampled per repository (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES,
                        help="longest function sampled, in lines (default: %(default)s)")
    parser.add_argument("--convention", default="auto",
                        choices=["auto", *docstrings.CONVENTIONS],
                        help="docstring convention asked for (default: detected per repository)")
    parser.add_argument("--no-context", action="store_true",
                        help="no repository definitions in the prompt (the file's function only)")
    parser.add_argument("--model", default="default", help="model preset, folder or GGUF "
                        "(default: %(default)s)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--quantization", default="int8", choices=["none", "int8", "int4"],
                        help="weight quantization of the engine (default: %(default)s, the "
                        "server's)")
    parser.add_argument("--threads", type=int, default=2,
                        help="inference threads (default: %(default)s)")
    parser.add_argument("--oracle", action="store_true",
                        help="no model: answer with the original docstring itself, to measure "
                        "what the task layer keeps of a perfect answer (the ceiling)")
    parser.add_argument("--json", type=Path, metavar="OUT",
                        help="also write every record (original, generated, scores) here")
    args = parser.parse_args(argv)
    if args.per_repo < 1:
        parser.error("--per-repo must be at least 1")
    score = rouge_scorer()  # fails early, naming the install command
    repos = [p.expanduser().resolve() for p in args.repo] if args.repo else \
        sdist_folders(args.cache)
    for repo in repos:
        if not repo.is_dir():
            parser.error(f"{repo} is not a folder")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    engine: Any = None
    if not args.oracle:
        log(f"loading {args.model} ({args.quantization}, {args.threads} threads); "
            f"load average {load_before}")
        from kodama.model.engine import Engine  # torch: only once the input is known good
        from kodama.model.loader import load_model

        engine = Engine(load_model(args.model, dtype=args.dtype, threads=args.threads),
                        quantization=args.quantization)
    records: list[Record] = []
    rows: list[tuple[str, dict[str, Any]]] = []
    for repo in repos:
        found = run_repository(repo, args, engine, score)
        records.extend(found)
        rows.append((repo.name, summarize(found)))
    if len(repos) > 1:
        rows.append(("all", summarize(records)))
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(markdown_table(rows))
    who = "Oracle (the original docstrings as answers)" if args.oracle else \
        f"Model {args.model} ({args.quantization}, {args.threads} threads)"
    context = "no context" if args.no_context or args.oracle else "repository context"
    print(f"\n{who}, seed {args.seed}, {context}; load average "
          f"{load_before} before, {load_after} after.")
    if args.json:
        args.json.write_text(json.dumps({
            "model": args.model, "quantization": args.quantization, "threads": args.threads,
            "seed": args.seed, "per_repo": args.per_repo, "context": not args.no_context,
            "oracle": args.oracle,
            "load_before": load_before, "load_after": load_after,
            "summaries": dict(rows), "records": [asdict(r) for r in records],
        }, indent=2, ensure_ascii=False), encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
