"""A small repository on disk for the context tests."""

from __future__ import annotations

from pathlib import Path

FILES = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": (
        '"""Shapes."""\n\n\n'
        "class Rectangle:\n"
        '    """An axis-aligned rectangle."""\n\n'
        "    def __init__(self, width: float, height: float) -> None:\n"
        "        self.width = width\n"
        "        self.height = height\n\n"
        "    def area(self) -> float:\n"
        "        return self.width * self.height\n\n\n"
        "def make_square(size: float) -> Rectangle:\n"
        '    """A square of side ``size``."""\n'
        "    return Rectangle(size, size)\n"
    ),
    "pkg/report.py": (
        "from pkg.shapes import Rectangle\n\n\n"
        "def describe_rectangle(rect: Rectangle) -> str:\n"
        '    return f"rectangle {rect.width} by {rect.height} with area {rect.area()}"\n'
    ),
    "app.py": (
        "from pkg.shapes import make_square\n\n\n"
        "def main() -> None:\n"
        "    square = make_square(3)\n"
        "    print(square)\n"
    ),
    "web/util.js": "export function clamp(value, low, high) {\n"
                   "  return Math.min(Math.max(value, low), high);\n}\n",
    "web/main.ts": 'import { clamp } from "./util";\n\nconst x: number = clamp(5, 0, 3);\n',
    "lib/greet.go": "package lib\n\nfunc Greet(name string) string {\n\treturn \"hi \" + name\n}\n",
    "README.md": "# not code\n",
    ".gitignore": "ignored.py\n/out/\n*.gen.py\n",
    "ignored.py": "def ignored_function():\n    pass\n",
    "out/built.py": "def built():\n    pass\n",
    "pkg/table.gen.py": "def generated():\n    pass\n",
    "pkg/sub/.gitignore": "local.py\n",
    "pkg/sub/local.py": "def local_only():\n    pass\n",
    "pkg/sub/kept.py": "def kept():\n    pass\n",
    "node_modules/dep/index.js": "function dep() {}\n",
    "env/pyvenv.cfg": "home = /usr\n",
    "env/lib/site.py": "def venv_code():\n    pass\n",
    "build/gen.py": "def build_output():\n    pass\n",
    "static/app.min.js": "function a(){return 1}\n",
    "static/bundle.js": "var a=1;" * 1000 + "\n",
}
"""Indexed: pkg/*.py (3), pkg/sub/kept.py, app.py, web/util.js, web/main.ts, lib/greet.go."""

INDEXED = {"pkg/__init__.py", "pkg/shapes.py", "pkg/report.py", "pkg/sub/kept.py", "app.py",
           "web/util.js", "web/main.ts", "lib/greet.go"}


def make_repo(root: Path) -> Path:
    """Write the repository under ``root`` (plus a binary and an oversized file)."""
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "data.py").write_bytes(b"x = 1\x00\x01\x02")
    (root / "huge.py").write_text("x = 1\n" * 100_000)
    (root / ".git").mkdir()
    (root / ".git" / "config.py").write_text("def git_internal():\n    pass\n")
    return root
