"""Docstring parts: read whatever convention the model writes, keep only what the code has,
write the repository's convention."""

from __future__ import annotations

import pytest

from kodama.model.tasks.docparts import DocParts, checked, parse, render

GOOGLE = '''"""Compute the total price.

Prices are summed
before tax.

Args:
    items (list): the items to price,
        one per line.
    discount: fraction taken off.
    invented: a parameter the code does not have.

Returns:
    The total.

Raises:
    ValueError: if a price is negative.
    KeyError: never raised by the code.
"""'''


def test_google_answer_is_read_into_parts() -> None:
    parts = parse(GOOGLE)
    assert parts.summary == "Compute the total price."
    assert parts.details == "Prices are summed before tax."
    assert parts.params == {"items": "the items to price, one per line.",
                            "discount": "fraction taken off.",
                            "invented": "a parameter the code does not have."}
    assert parts.returns == "The total."
    assert parts.raises == {"ValueError": "if a price is negative.",
                            "KeyError": "never raised by the code."}


@pytest.mark.parametrize("text", [
    "Add two numbers.\n\n:param a: the first\n:param int b: the second\n:returns: the sum\n"
    ":raises TypeError: on strings",
    "Add two numbers.\n\nParameters\n----------\na : int\n    the first\nb\n    the second\n\n"
    "Returns\n-------\nthe sum\n\nRaises\n------\nTypeError\n    on strings",
    "/**\n * Add two numbers.\n *\n * @param {number} a the first\n * @param b - the second\n"
    " * @returns {number} the sum\n * @throws TypeError on strings\n */",
    "```\nAdd two numbers.\n\nArgs:\n    a: the first\n    b: the second\nReturns:\n    the sum\n"
    "Raises:\n    TypeError: on strings\n```",
    "/// Add two numbers.\n///\n/// @param a the first\n/// @param b the second\n"
    "/// @return the sum\n/// @throws TypeError on strings",
])
def test_every_common_convention_reads_the_same(text: str) -> None:
    parts = parse(text)
    assert parts.summary == "Add two numbers."
    assert parts.params == {"a": "the first", "b": "the second"}
    assert parts.returns == "the sum"
    assert parts.raises == {"TypeError": "on strings"}


def test_checked_keeps_only_what_the_code_has() -> None:
    parts = checked(parse(GOOGLE), parameters=["items", "discount", "tax"], returns_value=True,
                    exceptions=[], source="if price < 0: raise ValueError(price)")
    assert list(parts.params) == ["items", "discount"], "signature order, no invented one"
    assert parts.params["items"] == "The items to price, one per line."
    assert parts.raises == {"ValueError": "If a price is negative."}
    no_return = checked(parse(GOOGLE), parameters=[], returns_value=False, exceptions=["OSError"],
                        source="")
    assert no_return.returns == "" and no_return.params == {}
    assert no_return.raises == {}, "an exception the model did not describe is not listed empty"


def test_star_parameters_match_their_bare_names() -> None:
    parts = checked(parse("Run.\n\nArgs:\n    *args: positional\n    **kwargs: options\n"),
                    parameters=["args", "kwargs"], returns_value=False, exceptions=[], source="")
    assert parts.params == {"args": "Positional.", "kwargs": "Options."}


PARTS = DocParts(summary="Add two numbers.", params={"a": "The first.", "b": "The second."},
                 returns="The sum.", raises={"TypeError": "On strings."})


@pytest.mark.parametrize(("language", "convention", "expected"), [
    ("python", "google", "Add two numbers.\n\nArgs:\n    a: The first.\n    b: The second.\n\n"
                         "Returns:\n    The sum.\n\nRaises:\n    TypeError: On strings."),
    ("python", "numpy", "Add two numbers.\n\nParameters\n----------\na\n    The first.\nb\n"
                        "    The second.\n\nReturns\n-------\nThe sum.\n\nRaises\n------\n"
                        "TypeError\n    On strings."),
    ("python", "rest", "Add two numbers.\n\n:param a: The first.\n:param b: The second.\n"
                       ":returns: The sum.\n:raises TypeError: On strings."),
    ("python", "plain", "Add two numbers."),
    ("typescript", "google", "Add two numbers.\n\n@param a The first.\n@param b The second.\n"
                             "@returns The sum.\n@throws TypeError On strings."),
    ("java", "google", "Add two numbers.\n\n@param a The first.\n@param b The second.\n"
                       "@return The sum.\n@throws TypeError On strings."),
    ("go", "google", "Add two numbers."),
    ("rust", "google", "Add two numbers."),
])
def test_render_follows_language_and_convention(language: str, convention: str,
                                                expected: str) -> None:
    assert render(PARTS, language=language, convention=convention) == expected


@pytest.mark.parametrize("convention", ["google", "numpy", "rest"])
def test_render_then_parse_round_trips(convention: str) -> None:
    assert parse(render(PARTS, language="python", convention=convention)) == PARTS


def test_long_text_is_wrapped() -> None:
    parts = DocParts(summary="Do it.", details="word " * 40)
    lines = render(parts, language="python").splitlines()
    assert len(lines) > 3 and all(len(line) <= 88 for line in lines)


def test_rest_types_are_dropped_and_prose_after_the_fields_is_detail() -> None:
    parts = parse(
        "Send a request.\n\n:param method: the verb\n:type method: str\n"
        ":param \\*\\*kwargs: options\n:param *args: extra\n:return: the response\n"
        ":rtype: Response\n\nUsage::\n\n  >>> send('GET')\n")
    assert parts.params == {"method": "the verb", "kwargs": "options", "args": "extra"}
    assert parts.returns == "the response"
    assert "Usage::" in parts.details and ">>> send" in parts.details


def test_long_fields_wrap_with_indented_continuations() -> None:
    parts = DocParts(summary="Do it.", params={"x": "word " * 30})
    lines = render(parts, language="python", convention="rest").splitlines()
    fields = lines[2:]
    assert len(fields) > 1 and all(len(line) <= 88 for line in lines)
    assert all(line.startswith("    ") for line in fields[1:])
    assert parse("\n".join(lines)).params["x"] == " ".join(["word"] * 30)


def test_examples_lists_and_literal_blocks_keep_their_lines() -> None:
    original = (
        "Parse lists as described by RFC 2068.\n\n"
        "The return value is a standard list:\n\n"
        ">>> parse_list_header('token, \"quoted value\"')\n"
        "['token', 'quoted value']\n\n"
        "Usage::\n\n"
        "  import requests\n"
        "  requests.get(url)\n\n"
        "- first point\n"
        "- second point\n\n"
        ":param value: a string with a list header.\n"
        ":return: the list\n"
    )
    parts = parse(original)
    assert parts.summary == "Parse lists as described by RFC 2068."
    rendered = render(checked(parts, parameters=["value"], returns_value=True, exceptions=[],
                              source=""), language="python", convention="rest")
    assert rendered == (
        "Parse lists as described by RFC 2068.\n\n"
        "The return value is a standard list:\n\n"
        ">>> parse_list_header('token, \"quoted value\"')\n"
        "['token', 'quoted value']\n\n"
        "Usage::\n\n"
        "  import requests\n"
        "  requests.get(url)\n\n"
        "- first point\n"
        "- second point\n\n"
        ":param value: A string with a list header.\n"
        ":returns: The list."
    )
