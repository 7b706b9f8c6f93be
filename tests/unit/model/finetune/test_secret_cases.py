"""The golden cases of the secret rules: every kind a real scanner knows is flagged with its
reason, and every look-alike is left alone (``secret_cases.toml``)."""

from __future__ import annotations

import pytest

from kodama.model.finetune.secrets import SECRET_REASONS, secret_reason

from .secret_cases import CASES_FILE, SPLIT, SecretCase, load_cases

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_golden_case(case: SecretCase) -> None:
    assert secret_reason(case.path, case.text) == case.kind, case.why


def test_every_reason_has_a_case_and_every_case_a_known_reason() -> None:
    kinds = {case.kind for case in CASES}
    assert set(SECRET_REASONS) <= kinds, set(SECRET_REASONS) - kinds
    assert kinds - {None} <= set(SECRET_REASONS)
    assert sum(case.kind is None for case in CASES) >= 15, "look-alikes are half the proof"


def test_the_case_file_holds_no_credential_a_scanner_would_flag() -> None:
    # Read raw (without removing the splits), each case is either left alone or flagged
    # only by name or as an assignment of a random literal: no token format matches as is.
    raw = CASES_FILE.read_text(encoding="utf-8")
    assert raw.count(SPLIT) >= 20
    token_like = {"GitHub token", "Slack token", "Stripe key", "npm token", "PyPI token",
                  "AWS access key", "API key", "JSON web token", "private key"}
    assert secret_reason("secret_cases.py", raw) not in token_like
