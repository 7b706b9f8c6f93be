"""Tests for kodama.model.finetune.secrets: files that must never be trained on.

Token-like values are built by concatenation at run time, so that this file holds no literal
that a secret scanner would take for a real credential.
"""

from __future__ import annotations

import pytest

from kodama.model.finetune.secrets import MAX_SCAN_CHARS, secret_reason

BENIGN = "print('hello')\n"
RANDOM = "Zq8x" + "K2mP" + "9vL4" + "nR7t"  # 16 characters, entropy 4 bits a character
HEX = "9f8e7d6c" + "5b4a3928" + "1706f5e4" + "d3c2b1a0"


@pytest.mark.parametrize(
    "path", [".env", "app/.env", ".env.local", "deploy/.env.production", "APP/.ENV.Staging"]
)
def test_env_files_are_secret_by_name(path: str) -> None:
    assert secret_reason(path, "DEBUG=1\n") == "secret file (.env)"


@pytest.mark.parametrize(
    "path", [".env.example", "app/.env.sample", ".env.template", ".env.dist", "docs/env.md"]
)
def test_env_templates_are_not_secret_by_name(path: str) -> None:
    assert secret_reason(path, "DATABASE_URL=\nDEBUG=1\nAPI_KEY=your-api-key-here\n") is None


def test_env_templates_are_still_scanned() -> None:
    assert secret_reason(".env.example", f"DATABASE_PASSWORD={RANDOM}\n") == (
        "credential assignment"
    )


@pytest.mark.parametrize(
    "path",
    [
        "certs/server.pem",
        "tls.key",
        "signing/release.p12",
        "win.pfx",
        "android/release.keystore",
        "keys/app.jks",
        "gpg/private.asc",
        "home/.ssh/id_rsa",
        "id_dsa",
        "id_ecdsa",
        "deploy/id_ed25519",
    ],
)
def test_key_and_certificate_files(path: str) -> None:
    assert secret_reason(path, "") == "key or certificate file"


def test_public_ssh_key_is_not_a_key_file() -> None:
    assert secret_reason("home/.ssh/id_rsa.pub", "ssh-ed25519 AAAAC3Nza user@host\n") is None


@pytest.mark.parametrize(
    "path",
    [
        ".npmrc",
        "web/.npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        "aws/credentials",
        "credentials.json",
        "config/Credentials.YAML",
        "credentials.yml",
        "secrets.json",
        "k8s/secrets.yaml",
        "secrets.yml",
        "config/secrets.toml",
        "site/.htpasswd",
    ],
)
def test_credential_files(path: str) -> None:
    assert secret_reason(path, "") == "credentials file"


@pytest.mark.parametrize(
    "path", ["credentials.py", "secrets_manager.py", "docs/credentials.md", "my_secrets.json"]
)
def test_files_merely_named_after_credentials_are_not_flagged(path: str) -> None:
    assert secret_reason(path, BENIGN) is None


@pytest.mark.parametrize(
    "kind", ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "]
)  # fmt: skip
def test_private_key_blocks(kind: str) -> None:
    block = "BLOCK" if kind == "PGP " else ""
    header = "-----BEGIN " + kind + "PRIVATE KEY" + (" " + block if block else "") + "-----"
    text = f"KEY = '''\n{header}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'''\n"
    assert secret_reason("tests/fixtures.py", text) == "private key"


@pytest.mark.parametrize("kind", ["PUBLIC KEY", "CERTIFICATE", "RSA PUBLIC KEY"])
def test_public_blocks_are_not_private_keys(kind: str) -> None:
    text = (
        "-----BEGIN " + kind + "-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC\n-----END " + kind + "-----\n"
    )
    assert secret_reason("certs/ca.txt", text) is None


def test_aws_access_key() -> None:
    key = "AKIA" + "Z7Q2" * 4
    assert secret_reason("deploy.py", f"client = boto3.client('s3', key_id='{key}')\n") == (
        "AWS access key"
    )
    assert secret_reason("deploy.py", f"session = {'AS' + 'IA' + 'J3K4' * 4!r}\n") == (
        "AWS access key"
    )
    assert secret_reason("a.py", "name = 'AKIA" + "z7q2" * 4 + "'\n") is None  # lower case
    assert secret_reason("a.py", "name = 'AKIA" + "Z7Q2" * 3 + "'\n") is None  # too short
    assert secret_reason("a.py", "name = 'XAKIA" + "Z7Q2" * 4 + "'\n") is None  # not a word


def test_github_tokens() -> None:
    for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
        text = f"TOKEN = '{prefix}{'a1B2' * 9}'\n"
        assert secret_reason("ci/release.py", text) == "GitHub token", prefix
    fine_grained = "github_" + "pat_" + "11ABCDEFG0" + "_" + "x9Y8z7W6v5" * 4
    assert secret_reason("README.md", f"curl -H 'Authorization: {fine_grained}'\n") == (
        "GitHub token"
    )
    assert secret_reason("a.py", "ghp_" + "a1B2" * 5 + "\n") is None  # too short


def test_slack_token() -> None:
    token = "xo" + "xb-" + "1234567890-" + "AbCdEfGhIj"
    assert secret_reason("notify.sh", f"curl -H 'Bearer {token}' https://slack.com\n") == (
        "Slack token"
    )
    assert secret_reason("a.py", "xoxb-short\n") is None


@pytest.mark.parametrize(
    "key",
    [
        "sk-" + "a1B2c3D4" * 6,  # OpenAI, legacy
        "sk-" + "proj-" + "Ab3_" * 10,  # OpenAI, project
        "sk-" + "ant-" + "api03-" + "xY9-" * 12,  # Anthropic
        "AIza" + ("Sy9_" + "a1B2c3D4e5" * 4)[:35],  # Google
        "hf_" + "aBcDeFgHiJ" * 3 + "kLmN",  # Hugging Face
    ],
)
def test_api_keys(key: str) -> None:
    assert secret_reason("client.py", f"client = Client(key={key!r})\n") == "API key"


@pytest.mark.parametrize(
    "key", ["sk_" + "live_" + "4eC39HqLyjWDarjt", "rk_" + "live_" + "4eC39HqLyjWDarjtT1"]
)
def test_stripe_keys(key: str) -> None:
    assert secret_reason("billing.py", f"stripe.api_key = {key!r}\n") == "Stripe key"


@pytest.mark.parametrize(
    "text",
    [
        "KEY_TYPES = ['sk-ssh-ed25519-cert-v01', 'sk-ecdsa-sha2-nistp256-cert-v01']\n",
        "task-runner-configuration-value = 1\n",
        "sk-learn is spelled scikit-learn\n",
        "stripe.api_key = 'sk_" + "test_" + "4eC39HqLyjWDarjtT1'\n",
        "self.hf_model_name_or_path_for_the_tokenizer = name\n",
    ],
)
def test_api_key_lookalikes_are_not_flagged(text: str) -> None:
    assert secret_reason("client.py", text) is None


def test_json_web_token() -> None:
    jwt = "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dozjgNryP4J3jV"
    assert secret_reason("tests/test_auth.py", f"HEADERS = {{'Authorization': '{jwt}'}}\n") == (
        "JSON web token"
    )
    assert secret_reason("a.py", "eyJ" + "short.eyJ" + "short.sig\n") is None


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "settings.py",
            'AWS_SECRET_ACCESS_KEY = "' + "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ9W2kLm" + '"',
        ),
        ("client.py", f'api_key = "{HEX}"'),
        ("client.py", f'    self.api_key = "{HEX}"  # noqa'),
        ("scripts/deploy.sh", f"DATABASE_PASSWORD={RANDOM}"),
        ("scripts/deploy.sh", f"export DATABASE_PASSWORD={RANDOM}"),
        ("config/app.ini", f"db_password = {RANDOM} ; production"),
        ("config/app.yml", f"database:\n  password: {RANDOM}  # prod\n"),
        ("config/app.toml", f'[auth]\nclient_secret = "{RANDOM}"\n'),
        ("config/oauth.json", '{"client_secret": "' + "GOCSPX-" + "1a2B3c4D5e6F7g8H9i0J" + '"}'),
        ("config.ts", f'const apiKey: string = "{RANDOM}";'),
        ("main.go", f'clientSecret := "{RANDOM}"'),
        ("config.php", f"'db_password' => '{RANDOM}',"),
        ("App.java", f'private static final String ACCESS_KEY = "{RANDOM}";'),
        ("app.py", f'app.config["SECRET_KEY"] = "{RANDOM}"'),
        ("app.py", f'connect(host="db", password="{RANDOM}")'),
        ("app.py", f"AUTH_TOKEN = b'{RANDOM}'"),
    ],
)
def test_credential_assignments(path: str, text: str) -> None:
    assert secret_reason(path, text) == "credential assignment"


@pytest.mark.parametrize(
    "text",
    [
        'app.secret_key = "dev"',
        'SECRET_KEY = os.environ["SECRET_KEY"]',
        'password = request.form["password"]',
        "token = self._token",
        "def check_password(password: str) -> bool:",
        'api_key: str = ""',
        'headers["Authorization"] = f"Bearer {token}"',
        'secret = "test secret key"',
        'app.config["SECRET_KEY"] = "a-very-secret-key-for-testing"',
        'password = "correct horse battery staple"',
        'password = "your-password-1234"',
        'API_KEY = "xxxxxxxxxxxx1234"',
        'secret = "${DB_SECRET_123}"',
        'token = "{{ vault_token_1 }}"',
        'password = "aaaaaaaaaaaaaaaa"',
        'api_key = "REDACTED-0000-1111"',
        'password = "<insert-password-9>"',
        'db_password = "changeme12345678"',
        'SECRET = "%(secret_value_1)s"',
        'token_url = "https://oauth2.googleapis.com/token2"',
        'SECRET_KEY_FILE = "/etc/app/secret1.key"',
        'tokenizer_name = "Qwen/Qwen2.5-Coder-0.5B-Instruct"',
        'EXPECTED_SHA256 = "' + HEX + HEX + '"',
        'pad_token = "<|endoftext|>"',
        'PASSWORD_ENV_VAR = "MYAPP_DB_PASSWORD2"',
        'SECRET_BACKEND = "app.backends.vault2:Backend3"',
        'token_field = "access_token_v2"',
        "max_tokens = 256",
        f'if password == "{RANDOM}":',
        f'if token != "{RANDOM}":',
        f"DATABASE_PASSWORD={RANDOM}",  # in a source file, a bare name is a variable, not a value
        f'    password_hint = "{RANDOM[:8]}"',  # too short
        'api_key = "abcdefghijklmnop"',  # no digits
        'api_key = "1234567890123456"',  # no letters
        'api_key = "ab12ab12ab12ab12"',  # low entropy
    ],
)
def test_ordinary_code_is_not_a_credential(text: str) -> None:
    assert secret_reason("app/views.py", text + "\n") is None


def python_module(lines: int = 300) -> str:
    """A plausible Python module that talks about passwords, tokens and keys without any."""
    head = [
        '"""User accounts: sign-in, password checks and API tokens."""',
        "",
        "from __future__ import annotations",
        "",
        "import hashlib",
        "import hmac",
        "import os",
        "import secrets",
        "",
        'SECRET_KEY = os.environ.get("SECRET_KEY", "")',
        'API_KEY = os.getenv("API_KEY")',
        'TOKEN_HEADER = "X-Auth-Token"',
        "MAX_TOKENS = 4096",
        'TOKENIZER = "Qwen/Qwen2.5-Coder-1.5B"',
        'PASSWORD_SALT_ENV = "PASSWORD_SALT_2"',
        'PASSWORD_ENV_VAR = "MYAPP_DB_PASSWORD2"',
        'SECRET_BACKEND = "app.backends.vault2"',
        'DEFAULTS = {"token_ttl": 3600, "password_min_length": 12, "secret_backend": "vault"}',
        "",
    ]
    body: list[str] = []
    index = 0
    while len(head) + len(body) < lines:
        body += [
            "",
            f"def check_password_{index}(user: User, password: str) -> bool:",
            f'    """Whether ``password`` is the password of ``user`` (variant {index})."""',
            "    digest = hashlib.pbkdf2_hmac('sha256', password.encode(), user.salt, 100_000)",
            "    return hmac.compare_digest(digest, user.password_hash)",
            "",
            f"def new_token_{index}(user: User, *, api_key: str | None = None) -> str:",
            "    token = secrets.token_urlsafe(32)",
            f"    user.tokens[token] = {{'scope': 'read', 'key': api_key, 'n': {index}}}",
            '    headers = {"Authorization": f"Bearer {token}", "X-Api-Key": api_key or ""}',
            "    return token if headers else ''",
            "",
            f"class TokenStore{index}:",
            '    """Tokens in memory."""',
            "",
            "    def __init__(self, secret: bytes = b'') -> None:",
            "        self._secret = secret or os.urandom(16)",
            "        self._token = None",
            "        self.password_field: str = 'password'",
        ]
        index += 1
    return "\n".join((head + body)[:lines]) + "\n"


def test_a_normal_python_module_is_not_flagged() -> None:
    module = python_module()
    assert module.count("\n") == 300
    assert secret_reason("accounts/service.py", module) is None


def test_only_the_first_megabyte_is_scanned() -> None:
    key = "ghp_" + "a1B2" * 9
    filler = "x = 1\n" * (MAX_SCAN_CHARS // 6 + 1)
    assert secret_reason("big.py", f"{filler}TOKEN = '{key}'\n") is None
    assert secret_reason("big.py", f"TOKEN = '{key}'\n{filler}") == "GitHub token"


def test_name_checks_come_before_content() -> None:
    key = "ghp_" + "a1B2" * 9
    assert secret_reason(".env", f"GITHUB_TOKEN={key}\n") == "secret file (.env)"
    assert secret_reason("ci/.npmrc", f"//npm.pkg.github.com/:_authToken={key}\n") == (
        "credentials file"
    )
