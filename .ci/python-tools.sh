#!/usr/bin/env bash
# The Python tools that some tests start (from PyPI, pinned), in one venv
# under VENV_DIR (default target/ci-python). Prints the `export VAR=...`
# lines to eval (all other output goes to stderr):
#   ADSTUDIO_TEST_PYARROW_PYTHON  a python with pyarrow (tests/it/dataset_pyarrow.rs)
#   ADSTUDIO_TEST_PYTHON          a python 3 (py_compile of docs/train_trl_dpo.py)
#   ADSTUDIO_TEST_MOTO_PYTHON     a python with moto[server], the S3-compatible
#                                 server of the image store's S3 tests
#                                 (tests/it/images_backends.rs)
# The venv is reused when it already has them all.
#
# Usage: eval "$(.ci/python-tools.sh [VENV_DIR])"
set -euo pipefail
venv="${1:-target/ci-python}"
pyarrow_version="22.0.0"
PACKAGES=(
  "pyarrow==${pyarrow_version}"
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
"$venv/bin/python" -c "import pyarrow; assert pyarrow.__version__ == '${pyarrow_version}', pyarrow.__version__" >&2
"$venv/bin/python" -c "import moto.server" >&2
python="$(cd "$venv/bin" && pwd)/python"
echo "export ADSTUDIO_TEST_PYARROW_PYTHON=$python"
echo "export ADSTUDIO_TEST_PYTHON=$python"
echo "export ADSTUDIO_TEST_MOTO_PYTHON=$python"
