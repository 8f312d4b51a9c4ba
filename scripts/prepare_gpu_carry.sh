#!/usr/bin/env bash
# Prepare .gpu/ (ignored) for scripts/bench_gpu.py on a GPU machine with no package registry: the vendored
# llama.cpp of our llama-cpp-python sdist, trimmed to what a CUDA build of libllama + llama-bench needs
# (~26 MB), llama-cpp-python's pure-Python package (it loads the native libs from LLAMA_CPP_LIB_PATH) with
# diskcache (its one import the GPU image lacks), and a snapshot of this tree's code.
#   scripts/prepare_gpu_carry.sh [DEST_REPO]     # DEST_REPO: the checkout the device tool sends (default: here)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dest=$(cd "${1:-.}" && pwd)/.gpu
site=$($PY -c "import llama_cpp, pathlib; print(pathlib.Path(llama_cpp.__file__).parent.parent)")
version=$($PY -c "import llama_cpp; print(llama_cpp.__version__)")
mkdir -p /tmp/sdist && [ -f /tmp/sdist/llama_cpp_python-$version.tar.gz ] || \
  $PY -m pip download --no-deps --no-binary :all: -q -d /tmp/sdist "llama-cpp-python==$version"
rm -rf /tmp/sdist/src && mkdir -p /tmp/sdist/src && tar -xzf /tmp/sdist/llama_cpp_python-$version.tar.gz -C /tmp/sdist/src
S=/tmp/sdist/src/llama_cpp_python-$version/vendor/llama.cpp
rm -rf "$dest" && mkdir -p "$dest/llama.cpp/ggml/src" "$dest/llama.cpp/tools" "$dest/py" "$dest/src"
(cd $S && cp -r CMakeLists.txt cmake include src common vendor gguf-py licenses LICENSE "$dest/llama.cpp/")
(cd $S/ggml && cp -r CMakeLists.txt cmake include "$dest/llama.cpp/ggml/")
(cd $S/ggml/src && cp -r ./*.c ./*.cpp ./*.h ./*.in CMakeLists.txt ggml-cpu ggml-cuda ggml-rpc ggml-blas \
  "$dest/llama.cpp/ggml/src/")
# tools/CMakeLists.txt adds these unconditionally (with LLAMA_BUILD_SERVER=OFF, not on Metal)
for t in batched-bench gguf-split imatrix llama-bench completion perplexity quantize tokenize tts mtmd rpc \
         cvector-generator export-lora fit-params results; do cp -r $S/tools/$t "$dest/llama.cpp/tools/"; done
cp $S/tools/CMakeLists.txt "$dest/llama.cpp/tools/"
cp -r "$site/llama_cpp" "$site/diskcache" "$dest/py/" && rm -rf "$dest/py/llama_cpp/lib" "$dest/py/llama_cpp/server"
cp -r edge_runtime scripts "$dest/src/"
find "$dest" -name __pycache__ -prune -exec rm -rf {} +
exclude="$(git -C "$dest/.." rev-parse --path-format=absolute --git-common-dir)/info/exclude"
mkdir -p "$(dirname "$exclude")" && { grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"; }
du -sh "$dest"
