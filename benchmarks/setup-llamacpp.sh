#!/usr/bin/env bash
# Build llama-cpp-python (the llama.cpp reference of benchmarks/typing.py) ONCE into a wheel cache
# and install it into the project's virtualenv. A benchmark dependency, never a product one.
#
#   benchmarks/setup-llamacpp.sh            # ~10 min on 2 cores the first time, seconds after
#
# Idempotent: an installed llama_cpp of the pinned version → nothing to do; a cached wheel →
# install it without building. The build compiles llama.cpp from the sdist with the local
# compilers at low priority (nice), -march=native but with AMX explicitly off: llama.cpp's AMX
# kernels crashed on our VMs (DESIGN.md §9) while the default CPU flags worked.
#
# Environment: PYTHON (default: .venv/bin/python of this repository), KODAMA_BENCH_CACHE
# (default: ~/.cache/kodama-bench), JOBS (parallel compile jobs, default: number of CPUs).
set -euo pipefail

VERSION=0.3.36
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${KODAMA_BENCH_CACHE:-$HOME/.cache/kodama-bench}"
WHEELS="$CACHE/wheels"
JOBS="${JOBS:-$(nproc)}"

installed="$("$PYTHON" -c 'import llama_cpp; print(llama_cpp.__version__)' 2>/dev/null || true)"
if [[ "$installed" == "$VERSION" ]]; then
    echo "llama-cpp-python $VERSION already installed in $PYTHON's environment"
    exit 0
fi

mkdir -p "$WHEELS"
shopt -s nullglob
wheels=("$WHEELS"/llama_cpp_python-"$VERSION"-*.whl)
if (( ${#wheels[@]} == 0 )); then
    echo "building llama-cpp-python $VERSION into $WHEELS (about 10 min on 2 cores)..."
    export CMAKE_ARGS="${CMAKE_ARGS:-} -DGGML_NATIVE=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
-DGGML_AMX_BF16=OFF -DGGML_CCACHE=OFF -DLLAMA_CURL=OFF \
-DCMAKE_C_FLAGS=-mno-amx-tile\ -mno-amx-int8\ -mno-amx-bf16 \
-DCMAKE_CXX_FLAGS=-mno-amx-tile\ -mno-amx-int8\ -mno-amx-bf16"
    export CMAKE_BUILD_PARALLEL_LEVEL="$JOBS"
    nice -n 19 "$PYTHON" -m pip wheel --no-deps --no-cache-dir "llama-cpp-python==$VERSION" \
        -w "$WHEELS"
    wheels=("$WHEELS"/llama_cpp_python-"$VERSION"-*.whl)
    if (( ${#wheels[@]} == 0 )); then
        echo "build finished but no wheel in $WHEELS" >&2
        exit 1
    fi
fi

# Installing the cached wheel by path rebuilds nothing; its runtime dependencies (numpy,
# typing-extensions, diskcache, jinja2) are ordinary wheels from PyPI.
"$PYTHON" -m pip install "${wheels[0]}"
"$PYTHON" -c 'import llama_cpp; print("llama-cpp-python", llama_cpp.__version__, "installed")'
