#!/usr/bin/env bash
# The Python tools that some tests start (from PyPI, pinned), in one venv:
# today moto in server mode, the S3-compatible server of the image store's
# S3 tests (tests/it/images_backends.rs). Other tools can be added to
# PACKAGES; the venv is reused when it already has them all.
#
# Prints the export lines to eval (all other output goes to stderr).
# Usage: eval "$(.ci/python-tools.sh VENV_DIR)"   (CI: target/ci-python)
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 VENV_DIR" >&2
  exit 2
fi
venv="$1"
PACKAGES=(
  "moto[server]==5.2.6"
)
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >&2 2>/dev/null; then
    # Debian ships venv's pip bootstrap in a separate package.
    rm -rf "$venv"
    apt-get update -q >&2
    apt-get install -y -q python3-venv >&2
    python3 -m venv "$venv" >&2
  fi
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet "${PACKAGES[@]}" >&2
"$venv/bin/python" -c "import moto.server" >&2
echo "export ADSTUDIO_TEST_MOTO_PYTHON=$(cd "$venv/bin" && pwd)/python"
