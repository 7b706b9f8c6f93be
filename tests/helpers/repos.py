"""Small synthetic Python repositories for the fine-tuning tests, and the fast fine-tune run."""

from __future__ import annotations

from pathlib import Path

GEOMETRY = (
    '"""Shapes."""\n\n\n'
    "def area(width, height):\n"
    "    if width < 0:\n"
    "        raise ValueError(width)\n"
    "    return width * height\n\n\n"
    "def perimeter(width, height):\n"
    '    """Twice the sum of the sides."""\n'
    "    total = \n"
    "    return total\n\n\n"
    "def scale(factor):\n"
    "    return factor * 2\n"
)
"""The file the editor tests open: an undocumented function to hover, explain and document,
a documented one, and a line to complete (``    total = ``)."""

FAST = ["--dtype", "float32", "--threads", "1", "--log-level", "warning", "--holes", "6"]
"""Flags of a quick fine-tune on the tiny model."""


def module(i: int) -> str:
    """A Python module unlike every other index's (different names and bodies, so no two are
    near-duplicates), with docstrings, blocks and plain lines to cut holes in."""
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"]
    w = words[i % len(words)]
    lines = [f'"""Module {w} {i}."""', "", ""]
    for k in range(6):
        lines += [f"def {w}_{i}_{k}(value_{k}, scale={k + i}):",
                  f'    """Scale {w} number {k} of module {i}."""',
                  f"    shifted_{k} = value_{k} + {k * i + 7}",
                  f"    return shifted_{k} * scale * {w!r}.count('{w[k % len(w)]}')", "", ""]
    return "\n".join(lines)


def make_repo(root: Path, files: int = 10) -> Path:
    """A package of ``files`` modules, and a planted ``.env`` secret never to be trained on."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (root / "pkg" / f"mod{i}.py").write_text(module(i))
    (root / ".env").write_text("API_TOKEN=Zq8xK2mP9vL4nR7tQ1w\n")
    return root


def fine_tune(root: Path, model: Path, *extra: str) -> int:
    """``kodama fine-tune root --model model`` with the FAST flags (and ``extra``)."""
    from kodama.server.commands.cli import main

    return main(["fine-tune", str(root), "--model", str(model), *FAST, *extra])
