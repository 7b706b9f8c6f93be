"""Whether a repository file holds secrets, so that it must never be trained on (pure, stdlib).

:func:`secret_reason` looks at the file's name first (``.env`` files, keys and certificates,
kubeconfigs, credential files such as ``.npmrc``, ``.pypirc``, ``.netrc``), then at its
content, with the rules real secret scanners use (:data:`SECRET_RULES`): private keys, cloud
keys (AWS, a GCP service account's JSON, Azure connection strings), GitHub, GitLab, Slack,
Stripe, npm and PyPI tokens, other API keys, JSON web tokens, kubeconfig credentials (embedded
in a string too), docker ``auths``, ``.netrc`` lines, passwords in URLs and connection strings,
secrets given as the default of an environment variable, ``Basic``/``Bearer`` authorization
headers, and credential-looking assignments (a name such as ``password`` or ``api_key`` given a
random-looking literal).

It favours leaving a file out over leaking a secret, but ordinary code costs no training data:
values read from the environment or a template (``os.environ["PW"]``, ``${TOKEN}``,
``{{ token }}``, ``<your-token>``, ``f"Bearer {token}"``), obvious placeholders (a value holding
``example``, ``your``, ``changeme``, ``xxxx``, ``dummy``, ``fake``, ``test``, ``sample``,
``redacted``, or one repeated character) and URLs without a password are not flagged. A value in
the exact format of a real token is flagged whatever the variable's name (``fake_key`` says
nothing about the value); in test fixtures, write placeholders that say so.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

__all__ = ["MAX_SCAN_CHARS", "SECRET_REASONS", "SECRET_RULES", "Rule", "secret_reason"]

MAX_SCAN_CHARS = 1_000_000
"""Only the first megabyte of a file's text is scanned."""

_ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
_KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keystore", ".jks", ".asc")
_KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
_CREDENTIAL_NAMES = frozenset(
    ".npmrc .pypirc .netrc _netrc .git-credentials .pgpass .dockercfg .s3cfg .boto"  # noqa: SIM905
    " credentials credentials.json credentials.yml credentials.yaml secrets.json secrets.yml"
    " secrets.yaml secrets.toml .htpasswd".split()
)
_CREDENTIAL_PATHS = (".docker/config.json",)
_KUBECONFIG_NAMES = frozenset({"kubeconfig", "kubeconfig.yaml", "kubeconfig.yml"})

_FAKE_WORDS = (
    "example", "changeme", "change-me", "change_me", "your", "xxxx", "dummy", "fake", "test",
    "sample", "placeholder", "redacted", "...",
)  # fmt: skip
_TEMPLATE_MARKS = ("<", ">", "${", "{{", "%(", "%s", "os.environ", "getenv")
_PLACEHOLDERS = _FAKE_WORDS + _TEMPLATE_MARKS
_PASSWORD_PARTS = ("pass", "pwd", "secret", "token")
"""Words a password that stands in for one holds (``mypassword``, ``a secret``)."""
_PASSWORD_WORDS = frozenset({"none", "null", "admin", "root", "guest", "user", "foo", "bar",
                             "baz", "qux"})
"""Whole passwords that stand in for one (``foo:bar``, ``admin:admin``)."""
_EXAMPLE_HOSTS = ("example.", ".example", ".test", ".invalid", "myserver", "host.com")
"""Hosts of documentation examples (RFC 2606 and the usual made-up ones)."""
# Values that are names rather than secrets: SCREAMING_SNAKE, snake_case, dotted.paths.
_NAME_VALUE = re.compile(
    r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+"
    r"|[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z_][A-Za-z0-9_]*)+"
)
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_JOINED_KEYWORDS = frozenset({"password", "passwd", "secret", "apikey", "accesskey", "privatekey"})
_WORD_KEYWORDS = frozenset({"pwd", "token"})
# Unquoted values are only trusted outside programming-language source files.
_CODE_SUFFIXES = frozenset(
    "py pyi pyx js jsx mjs cjs ts tsx go rs java kt kts scala groovy c h cc cpp cxx hh hpp hxx"  # noqa: SIM905
    " cs fs rb php swift m mm lua dart r jl ex exs erl hs ml clj vue svelte pl pm".split()
)


# ------------------------------------------------------------------------- values
def _is_placeholder(value: str) -> bool:
    """Whether a value is a stand-in rather than a secret: a template, a word that says so, or
    one character repeated. (Words are only looked for in values of 64 characters or fewer: a
    long random value holds one of them by chance too often.)"""
    lowered = value.lower()
    if len(set(lowered.rstrip("="))) <= 1 or any(m in value for m in ("${", "{{", "<", "%(")):
        return True
    return len(value) <= 64 and any(word in lowered for word in _PLACEHOLDERS)


def _entropy(value: str) -> float:
    """Shannon entropy of the characters of ``value``, in bits per character."""
    counts = Counter(value).values()
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts)


def _looks_random(value: str, *, shortest: int = 12, bits: float = 3.5) -> bool:
    """Whether a literal looks like a real secret rather than a word, path or placeholder."""
    if len(value) < shortest or _is_placeholder(value):
        return False
    if not (any(c.isalpha() for c in value) and any(c.isdigit() for c in value)):
        return False
    if any(c in "()[]{}" for c in value) or "://" in value or value.startswith(("/", ".", "~")):
        return False
    if _NAME_VALUE.fullmatch(value):
        return False
    return _entropy(value) >= bits


def _is_credential_name(name: str) -> bool:
    """Whether a name (``DB_PASSWORD``, ``clientSecret``, ``self.api_key``) is for a secret."""
    words = [word.lower() for word in _WORDS.findall(name)]
    if any(key in word for word in words for key in _JOINED_KEYWORDS):
        return True  # PASSWORD, db_password, SECRETKEY, apikey
    pairs = {first + second for first, second in pairwise(words)}  # api_key, clientSecret
    return not pairs.isdisjoint(_JOINED_KEYWORDS) or not _WORD_KEYWORDS.isdisjoint(words)


def _real_value(match: re.Match[str]) -> bool:
    """The default check: the match's ``value`` group (if any) is not a placeholder."""
    value = match.groupdict().get("value")
    return value is None or not _is_placeholder(value)


def _stand_in_password(value: str) -> bool:
    """Whether a password is shorter than 6 characters or stands in for one (``mypassword``,
    ``foo``, ``<password>``, ``****``)."""
    lowered = value.lower()
    return len(value) < 6 or _is_placeholder(value) or lowered in _PASSWORD_WORDS or any(
        part in lowered for part in _PASSWORD_PARTS)


def _real_password(match: re.Match[str]) -> bool:
    """A password (in a URL, a connection string, a ``.netrc`` line) that is no stand-in
    (:func:`_stand_in_password`), no template (``{password}``, ``$PW``, ``%s``), not the user
    name again, and not on a documentation example's host (``example.com``)."""
    value = match["value"]
    groups = match.groupdict()
    if _stand_in_password(value) or value == groups.get("user") or any(c in value for c in "{}[]"):
        return False
    host = (groups.get("host") or "").lower()
    return not value.startswith(("$", "%", "*")) and not any(h in host for h in _EXAMPLE_HOSTS)


def _random_value(match: re.Match[str]) -> bool:
    """The ``value`` group looks random (:func:`_looks_random`)."""
    return _looks_random(match["value"])


def _letters_and_digits(match: re.Match[str]) -> bool:
    """The ``value`` group is no placeholder and mixes letters and digits (as random keys do)."""
    value = match["value"]
    return _real_value(match) and any(c.isdigit() for c in value) and any(
        c.isalpha() for c in value)


def _basic_credentials(value: str) -> str | None:
    """The password of a ``Basic`` credential (base64 of ``user:password``), or None."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    _, colon, password = decoded.partition(":")
    return password if colon and decoded.isprintable() else None


def _authorization(match: re.Match[str]) -> bool:
    """``Basic`` with a real password inside, or a random-looking ``Bearer`` token."""
    value = match["value"]
    if match["scheme"].lower() == "basic":
        password = _basic_credentials(value)
        if password is not None:
            return not _stand_in_password(password)
    return _looks_random(value, shortest=16)


def _environment_default(match: re.Match[str]) -> bool:
    """A credential's environment variable with a secret-looking default value."""
    return _is_credential_name(match["name"]) and _looks_random(match["value"], shortest=8,
                                                                bits=2.8)


def _docker_auth(match: re.Match[str]) -> bool:
    """A docker ``auths`` entry whose ``auth`` is base64 of ``user:password``."""
    if not _DOCKER_AUTHS.search(match.string):
        return False
    password = _basic_credentials(match["value"])
    return password is not None and not _stand_in_password(password)


def _kubeconfig_secret(match: re.Match[str]) -> bool:
    """A random-looking ``token:`` or ``password:`` of a kubeconfig's user."""
    return bool(_KUBECONFIG.search(match.string)) and _looks_random(match["value"])


_KUBECONFIG = re.compile(r"""kind:[ \t]*["']?Config\b|\bclusters:|\bcurrent-context:""")
_DOCKER_AUTHS = re.compile(r"""\\?["']auths\\?["']\s*:""")


# ------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class Rule:
    """One content rule: the text holds one of ``hints`` (a fast test), ``pattern`` matches,
    and ``check`` accepts the match (by default: its ``value`` group is no placeholder)."""

    reason: str
    hints: tuple[str, ...]
    pattern: re.Pattern[str]
    check: Callable[[re.Match[str]], bool] = _real_value


_Q = r"""\\?["']"""  # a quote, maybe escaped (JSON inside a string)
_ENV_CALL = (
    r"""(?:getenv|get_env|getEnv|environ\.get|environ\.setdefault|getOrDefault|ENV\.fetch|\benv)"""
    r"""\(\s*["'](?P<name>[\w.-]+)["']\s*,\s*(?:default\s*=\s*)?[bBrRuU]?["'`]"""
    r"""(?P<value>[^"'`\\\s]+)["'`]"""
)
_ENV_OR = (
    r"""(?:(?:process|import\.meta)\.env\.|(?:process\.env|ENV)\[["'])(?P<name>\w+)["'\]]*"""
    r"""\s*(?:\|\||\?\?|\bor\b)\s*["'`](?P<value>[^"'`\\\s]+)["'`]"""
)

SECRET_RULES: Sequence[Rule] = (
    Rule("GCP service account key", ("private_key_id",),
         re.compile(_Q + r"private_key_id" + _Q + r"\s*:\s*" + _Q + r"(?P<value>[0-9a-f]{40})")),
    Rule("private key", ("PRIVATE KEY",),
         re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    Rule("AWS access key", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
         re.compile(r"\b(?P<value>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b")),
    Rule("AWS secret key", ("aws", "AWS", "Aws"),
         re.compile(r"(?i:aws)\w{0,20}(?i:secret)\w{0,20}" + r"""["'\]]*\s*(?::=|=>|=|:)\s*"""
                    r"""[bBrRuU]?["'`]?(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"""),
         _letters_and_digits),
    Rule("Azure connection string", ("AccountKey", "SharedAccessKey"),
         re.compile(r"\b(?:AccountKey|SharedAccessKey)\s*=\s*(?P<value>[A-Za-z0-9+/]{30,}={0,2})"),
         _letters_and_digits),
    Rule("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
         re.compile(r"\b(?P<value>gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])|github_pat_\w{22,})")),
    Rule("GitLab token", ("glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glsoat-", "GR1348941"),
         re.compile(r"\b(?P<value>gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt)-[\w-]{20,}"
                    r"|GR1348941[\w-]{20,})")),
    Rule("Slack token", ("xox", "hooks.slack.com"),
         re.compile(r"\b(?P<value>xox[abposre]-[A-Za-z0-9-]{10,})"
                    r"|hooks\.slack\.com/(?:services|workflows)/(?P<hook>[A-Za-z0-9/]{20,})"),
         lambda m: not _is_placeholder(m["value"] or m["hook"])),
    Rule("Stripe key", ("_live_",),
         re.compile(r"\b(?P<value>(?:sk|rk)_live_[A-Za-z0-9]{16,})")),
    Rule("npm token", ("npm_",),
         re.compile(r"\b(?P<value>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])"), _random_value),
    Rule("npm token", (":_auth", "\n_auth"),  # an .npmrc line: [//registry/:]_auth[Token]=
         re.compile(r"""(?:^|:)_auth(?:Token)?[ \t]*=[ \t]*["']?(?P<value>[^\s"'$]{16,})""",
                    re.MULTILINE), _random_value),
    Rule("PyPI token", ("pypi-Ag",),
         re.compile(r"\b(?P<value>pypi-Ag[A-Za-z0-9_-]{50,})")),
    Rule("API key", ("sk-", "AIza", "hf_"),
         re.compile(
             r"\b(?P<value>sk-(?:(?:proj|ant|svcacct|admin)-(?=[\w-]*\d)[\w-]{20,}"
             r"|(?=[A-Za-z]*\d)[A-Za-z0-9]{20,})"
             r"|AIza[\w-]{35}|hf_[A-Za-z0-9]{30,})")),
    Rule("JSON web token", ("eyJ",),
         re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    Rule("kubeconfig credential", ("client-key-data",),
         re.compile(r"""client-key-data:[ \t]*["']?(?P<value>[A-Za-z0-9+/]{20,}={0,2})""")),
    Rule("kubeconfig credential", ("kind: Config", "clusters:", "current-context:"),
         re.compile(r"""(?:^|(?<=\\n))[ \t]*(?:-[ \t]*)?(?:token|password):[ \t]*["']?"""
                    r"""(?P<value>[^\s"'\\]{12,})""", re.MULTILINE),
         _kubeconfig_secret),
    Rule("docker registry auth", ("auths",),
         re.compile(_Q + r"auth" + _Q + r"\s*:\s*" + _Q + r"(?P<value>[A-Za-z0-9+/]{8,}={0,2})"),
         _docker_auth),
    Rule(".netrc credentials", ("machine",),
         re.compile(r"""\bmachine(?:\s|\\n)+\S+(?:\s|\\n)+login(?:\s|\\n)+\S+(?:\s|\\n)+"""
                    r"""password(?:\s|\\n)+(?P<value>[^\s"'\\]+)"""),
         _real_password),
    Rule("password in URL", ("://",),
         re.compile(r"""://(?P<user>[^\s:/?#@"'`]*):(?P<value>[^\s:/?#@"'`]+)@(?P<host>[\w.-]+)"""),
         _real_password),
    Rule("password in connection string", ("assword", "ASSWORD", "asswd", "ASSWD", "wd=", "WD="),
         re.compile(r"""[;?&][ \t]*(?i:password|passwd|pwd)[ \t]*=[ \t]*"""
                    r"""(?P<value>[^;&\s"'`]+)"""),
         _real_password),
    Rule("secret as environment default",
         ("getenv", "environ", "env(", "getEnv", "get_env", "ENV.fetch", "getOrDefault"),
         re.compile(_ENV_CALL), _environment_default),
    Rule("secret as environment default", ("process.env", "meta.env", "ENV["),
         re.compile(_ENV_OR), _environment_default),
    Rule("authorization header", ("Basic", "Bearer", "basic", "bearer"),
         re.compile(r"\b(?P<scheme>[Bb]asic|[Bb]earer)[ \t]+"
                    r"(?P<value>[A-Za-z0-9+/_.~-]{16,}={0,2})(?![A-Za-z0-9+/_.~=-])"),
         _authorization),
)
"""Content rules, checked in order (the first that finds something gives the reason)."""

SECRET_REASONS: tuple[str, ...] = (
    "secret file (.env)", "key or certificate file", "kubeconfig file", "credentials file",
    *dict.fromkeys(rule.reason for rule in SECRET_RULES), "credential assignment",
)  # fmt: skip
"""Every reason :func:`secret_reason` gives."""


# ------------------------------------------------------------------------- verdict
def secret_reason(path: str, text: str) -> str | None:
    """Why the file at ``path`` (repository-relative, ``/``-separated) holds secrets, or None.

    The reason is one of :data:`SECRET_REASONS`, short human phrases (``"secret file (.env)"``,
    ``"credentials file"``, ``"private key"``, ``"AWS access key"``, ``"password in URL"``,
    ``"credential assignment"``, …), so that callers can tally what was left out.
    """
    name = path.rsplit("/", 1)[-1].lower()
    by_name = _name_reason(path.lower(), name)
    if by_name is not None:
        return by_name
    text = text[:MAX_SCAN_CHARS]
    for rule in SECRET_RULES:
        if any(hint in text for hint in rule.hints) and any(
                rule.check(match) for match in rule.pattern.finditer(text)):
            return rule.reason
    suffix = name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else ""
    return "credential assignment" if _has_credential(text, suffix not in _CODE_SUFFIXES) else None


def _name_reason(path: str, name: str) -> str | None:
    """The reason a file is secret by its (lower-case) path and name alone, or None."""
    if (name == ".env" or name.startswith(".env.")) and name not in _ENV_TEMPLATES:
        return "secret file (.env)"
    if name.endswith(_KEY_SUFFIXES) or name in _KEY_NAMES:
        return "key or certificate file"
    if name in _KUBECONFIG_NAMES or name.endswith(".kubeconfig") or path.endswith(".kube/config"):
        return "kubeconfig file"
    if name in _CREDENTIAL_NAMES or path.endswith(_CREDENTIAL_PATHS):
        return "credentials file"
    return None


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
