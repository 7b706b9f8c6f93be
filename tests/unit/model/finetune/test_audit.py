"""The fine-tune audit: every path of a repository is either read (with the split the run
gives it) or left out with the reason, and ``collect`` says the same as it keeps."""

from __future__ import annotations

from pathlib import Path

from helpers.repos import module
from kodama.model.config import FineTuneConfig
from kodama.model.evaluation.files import (
    BINARY,
    EMPTY,
    GENERATED,
    MINIFIED,
    NOT_SOURCE,
    NOT_UTF8,
    READ_SKIP_REASONS,
    TOO_LARGE,
)
from kodama.model.finetune import data
from kodama.syntax.walk import HIDDEN_FOLDER, IGNORED, LINK, SKIP_REASONS, SKIPPED_FOLDER


def write(root: Path, rel: str, content: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def repository(tmp_path: Path) -> Path:
    """A repository with one path for every reason a file is left out."""
    root = tmp_path / "repo"
    for i in range(6):
        write(root, f"pkg/mod{i}.py", module(i))
    write(root, "pkg/copy_of_mod2.py", module(2).replace("\n\n", "\n \n"))
    write(root, ".gitignore", "build_out/\n.env.local\n")
    write(root, ".env.local", "X=1\n")  # ignored: the rule, not the name, says why
    write(root, ".env", "X=1\n")
    write(root, "deploy/id_rsa", "key\n")
    write(root, "pkg/settings.py", 'DB_URL = "postgresql://app:Zq8xK2mP9vL4@db:5432/app"\n')
    write(root, "build_out/x.py", module(30))
    write(root, ".github/ci.py", module(31))
    write(root, "node_modules/lib/index.js", "module.exports = 1;\n")
    write(root, "README.md", "# Repo\n")
    write(root, "pkg/huge.py", "x = 1\n" * 40_000)
    write(root, "pkg/blob.py", b"x = 1\0\n")
    write(root, "pkg/latin1.py", "s = 'caf\xe9'\n".encode("latin-1"))
    write(root, "pkg/empty.py", "\n\n")
    write(root, "pkg/api_pb2.py", module(32))
    write(root, "pkg/table.py", "T = [" + "1, " * 400 + "]\n")
    (root / "pkg" / "outside.py").symlink_to(tmp_path)
    return root


EXPECTED_SKIPS = {
    ".gitignore": NOT_SOURCE,
    ".env.local": IGNORED,
    ".env": "secret: secret file (.env)",
    "deploy/id_rsa": "secret: key or certificate file",
    "pkg/settings.py": "secret: password in URL",
    "pkg/mod2.py": "near-duplicate of pkg/copy_of_mod2.py",
    "build_out/": IGNORED,
    ".github/": HIDDEN_FOLDER,
    "node_modules/": SKIPPED_FOLDER,
    "README.md": NOT_SOURCE,
    "pkg/huge.py": TOO_LARGE,
    "pkg/blob.py": BINARY,
    "pkg/latin1.py": NOT_UTF8,
    "pkg/empty.py": EMPTY,
    "pkg/api_pb2.py": GENERATED,
    "pkg/table.py": MINIFIED,
    "pkg/outside.py": LINK,
}


def test_every_path_is_read_or_skipped_with_its_reason(tmp_path: Path) -> None:
    root = repository(tmp_path)
    found = data.audit(root, FineTuneConfig())
    assert found.skipped == EXPECTED_SKIPS
    assert set(found.read) == {"pkg/copy_of_mod2.py",
                               *(f"pkg/mod{i}.py" for i in range(6) if i != 2)}
    plain = {reason for reason in found.skipped.values()
             if not reason.startswith(("secret: ", "near-duplicate of "))}
    assert plain <= SKIP_REASONS | READ_SKIP_REASONS


def test_the_audit_agrees_with_what_the_run_collects_and_splits(tmp_path: Path) -> None:
    root = repository(tmp_path)
    config = FineTuneConfig(seed=7, test_fraction=0.3, validation_fraction=0.2)
    corpus = data.collect(root)
    found = data.audit(root, config)
    assert found.read == data.split(corpus.files, seed=7, test_fraction=0.3,
                                    validation_fraction=0.2)
    assert {"train", "validation", "test"} <= set(found.read.values())
    # What collect counts (secrets and near-duplicates) is what the audit lists for them.
    counted = {path for paths in corpus.examples_of_skips.values() for path in paths}
    assert counted == {path for path, reason in found.skipped.items()
                       if reason.startswith(("secret: ", "near-duplicate"))}
    assert corpus.skipped["secret: secret file (.env)"] == 1
    assert corpus.skipped["near-duplicate"] == 1


def test_rows_are_sorted_and_json_carries_the_same(tmp_path: Path) -> None:
    found = data.audit(repository(tmp_path), FineTuneConfig())
    rows = found.rows()
    assert [path for _, path, _ in rows] == sorted(path for _, path, _ in rows)
    assert len(rows) == len(found.read) + len(found.skipped)
    entries = found.to_json()["files"]
    assert [(e.get("split", "skip"), e["path"], e.get("skipped", "")) for e in entries] == rows
