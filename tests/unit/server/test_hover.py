"""Where hover explains: on a definition's decorators, name and signature only."""

from __future__ import annotations

from kodama.model.tasks.subject import Subject, subject_at
from kodama.server.hover import on_signature

TEXT = ("import os\n\n\n@cache\ndef area(width,\n         height):\n    return width * height\n\n\n"
        "class Box:\n    def size(self):\n        \"\"\"Documented.\"\"\"\n        return 1\n")


def subject(marker: str) -> Subject:
    found = subject_at("python", TEXT, TEXT.index(marker), path="m.py")
    assert found is not None
    return found


def test_hover_explains_on_decorators_name_and_signature_only() -> None:
    area = subject("return width")
    assert [row for row in range(10) if on_signature(area, row)] == [3, 4, 5]
    size = subject("return 1")
    assert [row for row in range(14) if on_signature(size, row)] == [10]
