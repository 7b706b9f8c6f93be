"""kodama.model.evaluation.cuts: where single-line and multi-line holes can be cut."""

from __future__ import annotations

from pathlib import Path

from kodama.model.evaluation import SourceFile, find_candidates, walk_repository


def test_single_line_cuts_are_token_starts_after_the_first_token() -> None:
    source = SourceFile("a.py", "python", 'value = compute(a, "text here")  # note\nx = f(b)\n')
    found = find_candidates(source)
    assert len(found.single) == 1, "a line with a trailing comment is not a hole"
    middles = [source.text[c.start:c.end] for c in found.single[0]]
    # Token starts after "x": "=", "f", "(", "b", ")" — the bare ")" has no word: dropped.
    assert middles == ["= f(b)", "f(b)", "(b)", "b)"]


def test_multi_line_holes_per_language(repo: Path) -> None:
    files = {f.path: f for f in walk_repository(repo)}
    py = find_candidates(files["pkg/shapes.py"])
    bodies = sorted(files["pkg/shapes.py"].text[c.start:c.end] for c in py.multi)
    assert "self.radius = radius\n        self.name = \"circle\"" in bodies
    assert "total += shape.area()\n        print(shape.name)" in bodies
    # The area() body starts with a comment: not a hole. One-line bodies are not either.
    assert not any(b.startswith("# COMMENT") for b in bodies)

    go = find_candidates(files["stats/stats.go"])
    go_bodies = [files["stats/stats.go"].text[c.start:c.end] for c in go.multi]
    assert go_bodies == [
        "total := 0\n\tfor _, v := range values {\n\t\ttotal += v\n\t}\n\treturn total",
        "if len(values) == 0 {\n\t\treturn 0\n\t}\n\treturn float64(Sum(values)) / "
        "float64(len(values))",
    ]
    js = find_candidates(files["web/cart.js"])
    js_bodies = [files["web/cart.js"].text[c.start:c.end] for c in js.multi]
    assert js_bodies[0] == (
        "const next = cart.items.concat([item]);\n  return { ...cart, items: next };"
    )
    assert "sum += item.price * item.quantity;\n    console.log(item.name);" in js_bodies
