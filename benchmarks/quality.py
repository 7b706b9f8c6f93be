"""Completion quality on a panel of repositories (issue #17): the served path against the bare
model, hole by hole.

One command, one Markdown table on stdout (progress on stderr). For each repository of the
panel it runs ``kodama eval PATH --context raw,repo`` — the bare model (plain FIM prompt, bf16,
no repository context, no post-processing) and the served path (the configured weights,
repository snippets, stop rules and filters) on the same holes — and tables, per repository
and pooled over the panel:

* exact match raw → served, and the difference in points with a 95 % paired bootstrap interval
  (holes resampled with replacement; pooled: within each repository);
* paired wins / losses (holes only the served answer matches exactly, and the reverse);
* edit similarity, empty answers, files still parseable after the answer, served latency;

then the same figures pooled per hole kind (``single``, ``mid``, ``multi``).

The panel (pinned versions, fetched into ``~/.cache/kodama-bench/sdists`` on first use):
the sdists of click, attrs, rich, jinja2, httpx and more-itertools, which the completion work
was never tuned on; flask and requests, which it was; and one JavaScript package from npm
(mocha: plain CommonJS under ``lib/``).

    .venv/bin/python benchmarks/quality.py                         # the whole panel
    .venv/bin/python benchmarks/quality.py --repos click,mocha --holes 20
    .venv/bin/python benchmarks/quality.py --reuse --json pooled.json   # re-table, resume
    .venv/bin/python benchmarks/quality.py --repo ~/src/myproject

Every ``kodama eval`` JSON goes to ``--out`` as ``NAME.json``, with the arguments it ran with
in ``NAME.args.json``; ``--reuse`` skips a repository whose finished JSON was made with the
same arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import SDIST_CACHE, log, npm_folder, sdist_folders  # noqa: E402
from benchmarks.quality_stats import (  # noqa: E402
    RAW,
    SERVED,
    Figures,
    Paired,
    by_kind,
    figures,
    markdown_table,
    paired_from_report,
    runs_by_context,
)
from kodama.model.evaluation import walk_repository  # noqa: E402


@dataclass(frozen=True)
class Package:
    """A repository of the panel: a pinned package from PyPI (its sdist) or npm."""

    name: str
    version: str
    registry: str = "pypi"
    """``pypi`` or ``npm``."""
    tuned: bool = False
    """Whether the completion work was tuned on it (its figures are not unseen data)."""


PANEL = (
    Package("click", "8.5.1"), Package("attrs", "26.1.0"), Package("rich", "15.0.0"),
    Package("jinja2", "3.1.6"), Package("httpx", "0.28.1"), Package("more-itertools", "11.2.1"),
    Package("flask", "3.1.3", tuned=True), Package("requests", "2.34.2", tuned=True),
    Package("mocha", "12.0.3", registry="npm"),
)
"""The default panel, in table order."""

DEFAULT_OUT = Path.home() / ".cache" / "kodama-bench" / "quality"
EVAL_MODULE = "kodama.server.commands.cli"
"""``python -m`` this runs the ``kodama`` command line."""


@dataclass(frozen=True)
class Repository:
    """A folder to evaluate, under a unique name (the JSON file's)."""

    name: str
    path: Path
    label: str
    tuned: bool = False


# ------------------------------------------------------------------------ repositories
def choose_panel(names: str | None, panel: Sequence[Package] = PANEL) -> list[Package]:
    """The packages of ``panel`` named in the comma-separated ``names`` (all when None)."""
    if names is None:
        return list(panel)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {p.name: p for p in panel}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"--repos: no {', '.join(unknown)} in the panel "
                         f"({', '.join(known)}); use --repo PATH for other folders")
    return [known[n] for n in dict.fromkeys(wanted)]


def fetch_panel(packages: Sequence[Package], cache: Path) -> list[Repository]:
    """The packages' unpacked folders (downloaded on first use), in ``packages`` order."""
    sdists = [(p.name, p.version) for p in packages if p.registry == "pypi"]
    folders = dict(zip(sdists, sdist_folders(cache, sdists), strict=True)) if sdists else {}
    found = []
    for p in packages:
        if p.registry == "npm":
            path = npm_folder(cache, p.name, p.version)
        elif p.registry == "pypi":
            path = folders[(p.name, p.version)]
        else:
            raise ValueError(f"{p.name}: unknown registry {p.registry!r}")
        label = f"{p.name} {p.version}" + (" (tuned on)" if p.tuned else "")
        found.append(Repository(p.name, path, label, p.tuned))
    return found


def local_repositories(paths: Sequence[Path], taken: Sequence[str]) -> list[Repository]:
    """``--repo`` folders, named after the folder (``-2``, ``-3`` … when a name is taken)."""
    names = set(taken)
    found = []
    for raw in paths:
        path = raw.expanduser().resolve()
        if not path.is_dir():
            raise ValueError(f"--repo {raw}: not a folder")
        name, number = path.name, 1
        while name in names:
            number += 1
            name = f"{path.name}-{number}"
        names.add(name)
        found.append(Repository(name, path, name))
    return found


# ------------------------------------------------------------------------ kodama eval
def eval_arguments(args: argparse.Namespace) -> list[str]:
    """The ``kodama eval`` options of every repository's run (after PATH, before --json)."""
    options = ["--context", f"{args.baseline},{args.served}", "--holes", str(args.holes),
               "--mid-fraction", str(args.mid_fraction),
               "--multi-fraction", str(args.multi_fraction),
               "--held-out-files", str(args.held_out_files), "--seed", str(args.seed)]
    if args.threads is not None:
        options += ["--threads", str(args.threads)]
    return options


def kodama_command(spec: str | None) -> list[str]:
    """The command that starts ``kodama`` (``--kodama``, else this Python's module)."""
    return shlex.split(spec) if spec else [sys.executable, "-m", EVAL_MODULE]


def sidecar(report: Path) -> Path:
    """Where the arguments of the run that wrote ``report`` are kept."""
    return report.with_name(report.stem + ".args.json")


def run_record(repo: Repository, options: Sequence[str]) -> dict[str, Any]:
    """What :func:`sidecar` holds: the folder and the options (what makes a run reusable)."""
    return {"path": str(repo.path), "options": list(options)}


def reusable(report: Path, record: dict[str, Any], contexts: Sequence[str]) -> bool:
    """Whether ``report`` is a finished run (every context in it) made as ``record`` says."""
    try:
        kept = json.loads(sidecar(report).read_text(encoding="utf-8"))
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return kept == record and all(c in runs_by_context(data) for c in contexts)


def warn_all_held_out(repo: Repository, held_out: str) -> None:
    """Warn when ``--held-out-files`` holds out every source file of ``repo``: the served
    path then has no other file to take repository context from."""
    try:
        count = float(held_out)
    except ValueError:
        return
    files = len(walk_repository(repo.path))
    if count >= 1 and files <= count:
        log(f"{repo.name}: warning: all {files} source files are held out "
            f"(--held-out-files {held_out}): no repository context for the served path")


def evaluate(repo: Repository, args: argparse.Namespace) -> Path | None:
    """Run ``kodama eval`` on ``repo`` into ``--out`` (unless ``--reuse`` finds it done);
    the report's path, or None when the run failed."""
    options = eval_arguments(args)
    report: Path = args.out / f"{repo.name}.json"
    record = run_record(repo, options)
    if args.reuse and reusable(report, record, (args.baseline, args.served)):
        log(f"{repo.name}: reusing {report}")
        return report
    sidecar(report).unlink(missing_ok=True)
    report.unlink(missing_ok=True)
    warn_all_held_out(repo, args.held_out_files)
    command = [*kodama_command(args.kodama), "eval", str(repo.path), *options,
               "--json", str(report)]
    log(f"{repo.name}: {shlex.join(command)}")
    started = time.monotonic()
    # kodama eval prints its own table on stdout: keep ours alone there.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    sys.stderr.write(done.stdout)
    if done.returncode != 0 or not report.is_file():
        log(f"{repo.name}: kodama eval failed (exit {done.returncode}); left out")
        return None
    sidecar(report).write_text(json.dumps(record, indent=2), encoding="utf-8")
    log(f"{repo.name}: done in {time.monotonic() - started:.0f} s")
    return report


# ------------------------------------------------------------------------------ tables
@dataclass(frozen=True)
class Panel:
    """The figures of a finished panel."""

    repositories: list[tuple[Repository, Figures]]
    pooled: Figures
    unseen: Figures | None
    """Pooled over the repositories the work was not tuned on (None: all or none were)."""
    kinds: dict[str, Figures]
    """Pooled, per hole kind."""

    def rows(self) -> list[tuple[str, Figures]]:
        """The rows of the main table: per repository, then pooled."""
        rows = [(repo.label, f) for repo, f in self.repositories]
        if len(rows) > 1:
            rows.append((f"**pooled ({len(rows)})**", self.pooled))
        if self.unseen is not None:
            count = sum(not repo.tuned for repo, _ in self.repositories)
            rows.append((f"**pooled, unseen ({count})**", self.unseen))
        return rows

    def as_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {"repositories": {repo.name: f.as_json() for repo, f in self.repositories},
                "pooled": self.pooled.as_json(),
                "pooled_unseen": None if self.unseen is None else self.unseen.as_json(),
                "by_kind": {kind: f.as_json() for kind, f in self.kinds.items()}}


def tabulate(pairs: Sequence[tuple[Repository, Paired]], *, resamples: int,
             seed: int) -> Panel:
    """Per-repository and pooled figures (pooled intervals resample within repositories)."""
    everything = [p for _, p in pairs]
    unseen = [p for repo, p in pairs if not repo.tuned]
    return Panel(
        repositories=[(repo, figures([p], resamples=resamples, seed=seed))
                      for repo, p in pairs],
        pooled=figures(everything, resamples=resamples, seed=seed),
        unseen=figures(unseen, resamples=resamples, seed=seed)
        if unseen and len(unseen) < len(pairs) else None,
        kinds=by_kind(everything, resamples=resamples, seed=seed),
    )


def report_text(panel: Panel, args: argparse.Namespace, failed: Sequence[str]) -> str:
    """The Markdown printed on stdout: both tables and how they were made."""
    lines = [markdown_table(panel.rows()), "",
             markdown_table(list(panel.kinds.items()), first="hole kind (pooled)"), "",
             f"`kodama eval --context {args.baseline},{args.served}`: "
             f"{shlex.join(eval_arguments(args)[2:])}. Δ: {args.served} minus {args.baseline} "
             f"exact-match rate, in points; 95 % paired bootstrap interval over holes "
             f"({args.resamples} resamples, seed {args.bootstrap_seed}; pooled rows resample "
             f"within each repository). Parses: of the non-empty answers whose file parsed "
             f"before. Load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}."]
    if failed:
        lines.append(f"\nLeft out (kodama eval failed): {', '.join(failed)}.")
    return "\n".join(lines)


# -------------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--repos", metavar="NAME,...",
        help="only these repositories of the panel: " + ", ".join(p.name for p in PANEL)
        + " (default: all of them, unless --repo is given)")
    add("--repo", action="append", type=Path, default=[], metavar="PATH",
        help="a local repository folder to evaluate as well (repeatable); without --repos, "
        "only these are evaluated")
    add("--cache", type=Path, default=SDIST_CACHE, metavar="DIR",
        help="where the panel's packages are downloaded and unpacked (default: %(default)s)")
    add("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
        help="where each repository's kodama eval JSON (NAME.json) and its arguments "
        "(NAME.args.json) are written (default: %(default)s)")
    add("--reuse", action="store_true",
        help="do not run again a repository whose finished JSON in --out was made with the "
        "same folder and options (resume a panel, or re-table it; it does not notice changes "
        "to Kodama itself: run without --reuse after those)")
    add("--holes", type=int, default=40, metavar="N",
        help="holes per repository (kodama eval --holes; default: %(default)s)")
    add("--mid-fraction", type=float, default=0.5, metavar="F",
        help="share of `mid` holes, lines cut after their first one to three tokens (kodama "
        "eval --mid-fraction; default: %(default)s)")
    add("--multi-fraction", type=float, default=0.25, metavar="F",
        help="share of block-body holes (kodama eval --multi-fraction; default: %(default)s)")
    add("--held-out-files", default="0.25", metavar="N|F",
        help="held-out files per repository: a count, or a fraction below 1 (kodama eval "
        "--held-out-files; default: %(default)s)")
    add("--seed", type=int, default=0,
        help="seed of the hole choice (kodama eval --seed; default: %(default)s)")
    add("--threads", type=int, metavar="N",
        help="inference threads (kodama eval --threads; default: kodama's)")
    add("--baseline", default=RAW, metavar="CONTEXT",
        help="kodama eval context compared against (default: %(default)s, the bare model)")
    add("--served", default=SERVED, metavar="CONTEXT",
        help="kodama eval context of the served path (default: %(default)s)")
    add("--kodama", metavar="COMMAND",
        help="command that starts kodama (default: this Python's -m " + EVAL_MODULE + ")")
    add("--resamples", type=int, default=2000, metavar="N",
        help="bootstrap resamples of the intervals (default: %(default)s)")
    add("--bootstrap-seed", type=int, default=0, metavar="S",
        help="seed of the bootstrap (default: %(default)s)")
    add("--json", type=Path, metavar="OUT",
        help="also write the figures (per repository, pooled, per hole kind) as JSON here")
    args = parser.parse_args(argv)
    if args.holes < 1 or args.resamples < 1:
        parser.error("--holes and --resamples must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the panel; print the tables. 1 when a repository was left out, else 0."""
    args = parse_args(argv)
    try:
        packages = choose_panel(args.repos) if args.repos or not args.repo else []
        repos = fetch_panel(packages, args.cache) if packages else []
        repos += local_repositories(args.repo, [r.name for r in repos])
    except ValueError as exc:
        raise SystemExit(f"quality.py: {exc}") from None
    args.out.mkdir(parents=True, exist_ok=True)
    pairs: list[tuple[Repository, Paired]] = []
    failed: list[str] = []
    for number, repo in enumerate(repos, 1):
        log(f"[{number}/{len(repos)}] {repo.label}: {repo.path}")
        report = evaluate(repo, args)
        if report is None:
            failed.append(repo.name)
            continue
        data = json.loads(report.read_text(encoding="utf-8"))
        pairs.append((repo, paired_from_report(repo.name, data, baseline=args.baseline,
                                               served=args.served)))
    if not pairs:
        raise SystemExit("quality.py: no repository was evaluated")
    panel = tabulate(pairs, resamples=args.resamples, seed=args.bootstrap_seed)
    print(report_text(panel, args, failed))
    if args.json:
        args.json.write_text(json.dumps({
            "eval_options": eval_arguments(args), "resamples": args.resamples,
            "bootstrap_seed": args.bootstrap_seed,
            "repositories": {r.name: str(r.path) for r, _ in pairs}, "left_out": failed,
            **panel.as_json(),
        }, indent=2, ensure_ascii=False), encoding="utf-8")
        log(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
