"""Whether a repository file holds secrets, so that it must never be trained on (pure, stdlib).

:func:`secret_reason` looks at the file's name first (``.env`` files, keys and certificates,
credential files), then at its content: well-known token formats (private keys, AWS, GitHub,
Slack, API keys, JSON web tokens) and credential-looking assignments (a name such as
``password`` or ``api_key`` given a random-looking literal). It favours precision: ordinary
source code, placeholders and values read from the environment are not flagged.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

__all__ = ["MAX_SCAN_CHARS", "SECRET_PATTERNS", "secret_reason"]

MAX_SCAN_CHARS = 1_000_000
"""Only the first megabyte of a file's text is scanned."""

_ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
_KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keystore", ".jks", ".asc")
_KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
_CREDENTIAL_NAMES = frozenset(
    ".npmrc .pypirc .netrc .git-credentials credentials credentials.json credentials.yml"  # noqa: SIM905
    " credentials.yaml secrets.json secrets.yml secrets.yaml secrets.toml .htpasswd".split()
)

SECRET_PATTERNS: Sequence[tuple[str, tuple[str, ...], re.Pattern[str]]] = (
    (
        "private key",
        ("PRIVATE KEY",),
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ),
    ("AWS access key", ("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])|github_pat_\w{22,})"),
    ),
    ("Slack token", ("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "API key",
        ("sk-", "AIza", "_live_", "hf_"),
        re.compile(
            r"\bsk-(?:(?:proj|ant|svcacct|admin)-(?=[\w-]*\d)[\w-]{20,}"
            r"|(?=[A-Za-z]*\d)[A-Za-z0-9]{20,})"
            r"|\bAIza[\w-]{35}|\b(?:sk|rk)_live_[A-Za-z0-9]{16,}|\bhf_[A-Za-z0-9]{30,}"
        ),
    ),
    (
        "JSON web token",
        ("eyJ",),
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    ),
)
"""Content patterns, checked in order: (reason, literals one of which a match holds, regex)."""

# An assignment operator and a quoted literal without spaces, escapes or nested quotes; the
# name it is assigned to is then read back from the text before the operator.
_QUOTED_VALUE = re.compile(
    r"""(?::=|=>|=|:)[ \t]*[bBrRuU]{0,2}(?P<quote>["'`])(?P<value>[^"'`\\\s]{12,})(?P=quote)"""
)
# A (possibly dotted, quoted or subscripted) name and an optional type annotation, at the end.
_NAME_BEFORE = re.compile(
    r"""(?P<name>[A-Za-z_$][\w.$-]*+)["'\]]*(?:[ \t]*:[ \t]*[\w\[\]. |]+?)?[ \t]*\Z"""
)
# An env, INI or YAML line: ``[export] NAME=value`` or ``name: value``, unquoted to line end.
_BARE_ASSIGNMENT = re.compile(
    r"""^[ \t]*(?:export[ \t]+)?(?P<name>[A-Za-z_][\w.-]*+)[ \t]*[=:][ \t]*"""
    r"""(?P<value>[^\s"'`#;]{12,}+)[ \t]*(?:[#;][^\n]*)?$""",
    re.MULTILINE,
)
# Values that are names rather than secrets: SCREAMING_SNAKE, snake_case, dotted.paths.
_NAME_VALUE = re.compile(
    r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+"
    r"|[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z_][A-Za-z0-9_]*)+"
)
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_JOINED_KEYWORDS = frozenset({"password", "passwd", "secret", "apikey", "accesskey", "privatekey"})
_WORD_KEYWORDS = frozenset({"pwd", "token"})
_PLACEHOLDERS = (
    "example", "changeme", "change-me", "your", "xxx", "dummy", "fake", "test", "sample",
    "placeholder", "redacted", "...", "<", ">", "${", "{{", "%(", "os.environ", "getenv",
)  # fmt: skip
# Unquoted values are only trusted outside programming-language source files.
_CODE_SUFFIXES = frozenset(
    "py pyi pyx js jsx mjs cjs ts tsx go rs java kt kts scala groovy c h cc cpp cxx hh hpp hxx"  # noqa: SIM905
    " cs fs rb php swift m mm lua dart r jl ex exs erl hs ml clj vue svelte pl pm".split()
)


def secret_reason(path: str, text: str) -> str | None:
    """Why the file at ``path`` (repository-relative, ``/``-separated) holds secrets, or None.

    The reason is one of a few short human phrases (``"secret file (.env)"``, ``"key or
    certificate file"``, ``"credentials file"``, ``"private key"``, ``"AWS access key"``,
    ``"GitHub token"``, ``"Slack token"``, ``"API key"``, ``"JSON web token"``, ``"credential
    assignment"``), so that callers can tally what was left out.
    """
    name = path.rsplit("/", 1)[-1].lower()
    if (name == ".env" or name.startswith(".env.")) and name not in _ENV_TEMPLATES:
        return "secret file (.env)"
    if name.endswith(_KEY_SUFFIXES) or name in _KEY_NAMES:
        return "key or certificate file"
    if name in _CREDENTIAL_NAMES:
        return "credentials file"
    text = text[:MAX_SCAN_CHARS]
    for reason, hints, pattern in SECRET_PATTERNS:
        if any(hint in text for hint in hints) and pattern.search(text):
            return reason
    suffix = name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else ""
    return "credential assignment" if _has_credential(text, suffix not in _CODE_SUFFIXES) else None


def _has_credential(text: str, bare_values: bool) -> bool:
    """Whether the text assigns a random-looking literal to a credential-like name.

    Unquoted values (``NAME=value`` lines) count only when ``bare_values`` is true.
    """
    for match in _QUOTED_VALUE.finditer(text):
        if _looks_random(match["value"]):
            start = max(text.rfind("\n", 0, match.start()) + 1, match.start() - 200)
            name = _NAME_BEFORE.search(text, start, match.start())
            if name and _is_credential_name(name["name"]):
                return True
    if bare_values:
        for match in _BARE_ASSIGNMENT.finditer(text):
            if _is_credential_name(match["name"]) and _looks_random(match["value"]):
                return True
    return False


def _is_credential_name(name: str) -> bool:
    """Whether a name (``DB_PASSWORD``, ``clientSecret``, ``self.api_key``) is for a secret."""
    words = [word.lower() for word in _WORDS.findall(name)]
    if any(key in word for word in words for key in _JOINED_KEYWORDS):
        return True  # PASSWORD, db_password, SECRETKEY, apikey
    pairs = {first + second for first, second in pairwise(words)}  # api_key, clientSecret
    return not pairs.isdisjoint(_JOINED_KEYWORDS) or not _WORD_KEYWORDS.isdisjoint(words)


def _looks_random(value: str) -> bool:
    """Whether a literal looks like a real secret rather than a word, path or placeholder."""
    lowered = value.lower()
    if len(value) < 12 or len(set(value)) == 1 or any(p in lowered for p in _PLACEHOLDERS):
        return False
    if not (any(c.isalpha() for c in value) and any(c.isdigit() for c in value)):
        return False
    if any(c in "()[]{}" for c in value) or "://" in value or value.startswith(("/", ".", "~")):
        return False
    if _NAME_VALUE.fullmatch(value):
        return False
    return _entropy(value) >= 3.5


def _entropy(value: str) -> float:
    """Shannon entropy of the characters of ``value``, in bits per character."""
    counts = Counter(value).values()
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts)
