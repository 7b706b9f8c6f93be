"""A small repository in three languages for the evaluation tests, plus files to skip."""

from __future__ import annotations

from pathlib import Path

PYTHON = '''"""Shapes and their areas: DOCSTRINGWORD."""

import math


class Circle:
    """A circle with a radius (DOCSTRINGWORD)."""

    def __init__(self, radius):
        self.radius = radius
        self.name = "circle"

    def area(self):
        # COMMENTWORD: the classic formula
        return math.pi * self.radius ** 2


def total_area(shapes):
    total = 0
    for shape in shapes:
        total += shape.area()
        print(shape.name)
    return total
'''

JAVASCRIPT = """function addItem(cart, item) {
  const next = cart.items.concat([item]);
  return { ...cart, items: next };
}

// COMMENTWORD: totals
export function total(cart) {
  let sum = 0;
  for (const item of cart.items) {
    sum += item.price * item.quantity;
    console.log(item.name);
  }
  return sum;
}
"""

GO = """package stats

// Sum adds the values. COMMENTWORD
func Sum(values []int) int {
\ttotal := 0
\tfor _, v := range values {
\t\ttotal += v
\t}
\treturn total
}

func Mean(values []int) float64 {
\tif len(values) == 0 {
\t\treturn 0
\t}
\treturn float64(Sum(values)) / float64(len(values))
}
"""


def write(root: Path, rel: str, text: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
