"""Small synthetic Python repositories for the fine-tuning tests."""

from __future__ import annotations


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
