#!/usr/bin/env bash
# Build llama.cpp's own llama-bench, llama-speculative-simple and llama-server from the sources inside the
# llama-cpp-python sdist we depend on, so our numbers are compared with the same llama.cpp.
# Output: .tools/bin/ (gitignored). Takes several minutes on 2 cores; reruns are no-ops.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
version=$($PY -c "import llama_cpp; print(llama_cpp.__version__)")
out=.tools
if [ -x $out/bin/llama-bench ] && [ -x $out/bin/llama-speculative-simple ] && [ -x $out/bin/llama-server ] && [ "$(cat $out/version 2>/dev/null)" = "$version" ]; then
  echo "llama.cpp tools for llama-cpp-python $version are built in $out/bin"; exit 0
fi
mkdir -p $out/src
$PY -m pip download --no-deps --no-binary :all: -q -d $out/src "llama-cpp-python==$version"
tar -xzf $out/src/llama_cpp_python-$version.tar.gz -C $out/src
src=$out/src/llama_cpp_python-$version/vendor/llama.cpp
cmake -S $src -B $out/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_TESTS=OFF -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build $out/build --target llama-bench llama-speculative-simple llama-server -j "$(nproc)"
mkdir -p $out/bin
cp $out/build/bin/llama-bench $out/build/bin/llama-speculative-simple $out/build/bin/llama-server $out/bin/
echo "$version" > $out/version
echo "built llama-bench, llama-speculative-simple and llama-server in $out/bin"
