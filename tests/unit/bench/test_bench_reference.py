"""The latency reference's Kodama side: each prompt goes to the engine as the server sends it,
with the token to heal (an unhealed prompt that ends inside the middle can derail the model)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root

from benchmarks.reference import build_cases, run_kodama
from benchmarks.session import Target
from helpers.scripted_engine import ScriptedEngine


def test_every_case_asks_the_engine_to_heal_the_token_before_the_cursor(tmp_path: Path) -> None:
    source = tmp_path / "settings.py"
    source.write_text("import json\n\n\ndef save(path, data):\n    json.dump(data, path)\n")
    engine = ScriptedEngine("x\n")
    cases = build_cases(engine, [Target(source, 4)], keystrokes=6, root=None)
    assert len(cases) == 7  # cold, then six keystrokes
    for case in cases:
        run_kodama(engine, case)
    typed = [case for case in cases if case.typed > 0]
    assert typed and all(case.heal_at == len(case.ids) - 1 for case in typed)
    assert engine.heals == [case.heal_at for case in cases]
