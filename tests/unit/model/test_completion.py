"""The completion task with a scripted fake engine: prompt → stop rules → post-processing."""

from __future__ import annotations

import threading

from helpers.scripted_engine import ScriptedEngine
from kodama.model.completion import CompletionSettings, complete_at, context_at
from kodama.syntax.document import SyntaxDocument
from kodama.syntax.languages import detect


def doc_with_cursor(marked: str, name: str) -> tuple[SyntaxDocument, int]:
    offset = marked.index("█")
    text = marked.replace("█", "")
    return SyntaxDocument(f"file:///{name}", text, detect(name), 1), offset


def test_single_line_completion_stops_at_newline_and_drops_duplicate_closer() -> None:
    doc, offset = doc_with_cursor("def area(r):\n    return max(█)\n", "a.py")
    engine = ScriptedEngine("r, 0)\n    print('more')\n")
    result = complete_at(doc, offset, engine, CompletionSettings())
    assert result.mode == "single"
    assert result.text == "r, 0"
    prompt = engine.prompts[0]
    assert prompt[0] == 1 and 2 in prompt
    # the cursor line's typed text is the start of the middle
    assert prompt[prompt.index(3) + 1:] == engine.encode("    return max(")


def test_the_engine_is_asked_to_heal_the_last_token_before_the_cursor() -> None:
    doc, offset = doc_with_cursor("x = compute(█)\n", "a.py")
    engine = ScriptedEngine("1)\n")
    complete_at(doc, offset, engine, CompletionSettings())
    prompt, heal_at = engine.prompts[0], engine.heals[0]
    assert heal_at is not None
    # the token before the cursor: the last of the typed text, after <fim_middle>
    assert heal_at == len(prompt) - 1 and prompt[heal_at] == engine.encode("(")[0]
    assert prompt[prompt.index(3) + 1:] == engine.encode("x = compute(")


def test_an_engine_that_cannot_heal_gets_the_typed_text_at_the_end_of_the_prefix() -> None:
    doc, offset = doc_with_cursor("x = compute(█)\n", "a.py")
    engine = ScriptedEngine("1)\n", heals_tokens=False)
    complete_at(doc, offset, engine, CompletionSettings())
    prompt = engine.prompts[0]
    assert prompt[-1] == 3 and prompt[prompt.index(2) - 1] == engine.encode("(")[0]


def test_multi_line_body_in_python_is_cut_before_the_next_def() -> None:
    doc, offset = doc_with_cursor("def double(x):\n    █\n", "d.py")
    engine = ScriptedEngine("y = x * 2\n    return y\n\ndef other():\n    pass\n")
    result = complete_at(doc, offset, engine, CompletionSettings())
    assert result.mode == "multi"
    assert result.text == "y = x * 2\n    return y"


def test_cancelled_generation_offers_nothing() -> None:
    doc, offset = doc_with_cursor("x = █\n", "c.py")
    cancel = threading.Event()
    cancel.set()
    result = complete_at(doc, offset, ScriptedEngine("42"), CompletionSettings(), cancel=cancel)
    assert result.text == "" and result.generation.reason == "cancelled"


def test_documents_without_a_tree_skip_syntax_checks() -> None:
    doc, offset = doc_with_cursor("x = 1\0\ny = █", "n.py")
    assert doc.tree is None
    assert context_at(doc, offset).language is None
    result = complete_at(doc, offset, ScriptedEngine("2 +"), CompletionSettings())
    assert result.text == "2 +"


def test_indentation_written_again_at_the_end_of_a_file_is_dropped() -> None:
    doc, offset = doc_with_cursor('def any_close(xs, t):\n    """Two close?"""\n    █', "e.py")
    engine = ScriptedEngine("    for a in xs:\n        if a < t:\n            return True\n"
                            "    return False\n\n\ndef other():\n")
    result = complete_at(doc, offset, engine, CompletionSettings())
    assert result.mode == "multi"
    assert result.text == ("for a in xs:\n        if a < t:\n            return True\n"
                           "    return False")
    assert result.raw.startswith("    for a"), "the raw text is what the model wrote"
    # A deliberate deeper first line after an indented cursor is not touched.
    doc, offset = doc_with_cursor("x = [\n    █\n]\n", "f.py")
    assert complete_at(doc, offset, ScriptedEngine("  1,\n"), CompletionSettings()).text == "  1,"
