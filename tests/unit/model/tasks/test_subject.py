"""What a task is about: a definition (Subject) or a selection, and what the prompt shows."""

from __future__ import annotations

from kodama.model.tasks.subject import Selection, content_key, shown_code, subject_at, values
from kodama.model.types import Snippet

TEXT = "import os\n\n\ndef f(a):\n    if a:\n        return os.sep\n    return ''\n"


def test_a_selection_is_named_by_its_lines_and_shown_dedented() -> None:
    start = TEXT.index("if a")
    selection = Selection(language="python", path="m.py", text=TEXT, start=start,
                          end=TEXT.index("    return ''"))
    assert selection.name == "lines 5–6" and selection.kind == "selected code"
    assert selection.code == "if a:\n    return os.sep"
    one = Selection(language="python", path="m.py", text=TEXT, start=start, end=start + 4)
    assert one.name == "line 5"
    assert values(selection)["code"] == selection.code


def test_the_key_changes_with_the_code_and_the_context_only() -> None:
    subject = subject_at("python", TEXT, TEXT.index("return ''"), path="m.py")
    assert subject is not None
    same = subject_at("python", "# moved\n" + TEXT, TEXT.index("return ''") + 8, path="m.py")
    assert same is not None and content_key(subject) == content_key(same)
    edited = subject_at("python", TEXT.replace("''", "'x'"), TEXT.index("return ''"),
                        path="m.py")
    assert edited is not None and content_key(edited) != content_key(subject)
    snippet = Snippet(path="util.py", text="def helper():\n    pass", kind="definition")
    grounded = subject_at("python", TEXT, TEXT.index("return ''"), path="m.py",
                          context=[snippet])
    assert grounded is not None and content_key(grounded) != content_key(subject)
    assert "From `util.py`" in values(grounded)["context"]


def test_long_definitions_lose_their_middle() -> None:
    code = "\n".join(f"x{i} = {i}" for i in range(400))
    shown = shown_code(code, max_lines=30)
    assert shown.startswith("x0 = 0\n") and shown.endswith("x399 = 399")
    assert "lines left out" in shown and len(shown.splitlines()) == 31


def test_middle_is_the_code_point_middle_of_the_definition() -> None:
    text = "é = 'ü'\n\n\ndef f(a):\n    return a\n"
    subject = subject_at("python", text, text.index("return"), path="m.py")
    assert subject is not None
    start, end = text.index("def f"), len(text) - 1
    assert subject.middle == (start + end) // 2
