#!/usr/bin/env bash
# Python tools some tests call (PyPI packages, pinned), in a venv under
# VENV_DIR (default target/ci-python). Prints the `export VAR=...` lines
# to eval (all other output goes to stderr):
#   ADSTUDIO_TEST_PYARROW_PYTHON  a python with pyarrow (tests/it/dataset_pyarrow.rs)
#   ADSTUDIO_TEST_PYTHON          a python 3 (py_compile of docs/train_trl_dpo.py)
#
# Usage: eval "$(.ci/python-tools.sh [VENV_DIR])"
set -euo pipefail
venv="${1:-target/ci-python}"
pyarrow_version="22.0.0"
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >&2; then
    # Debian ships venv separately.
    apt-get install -y -q python3-venv >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
  fi
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet \
  "pyarrow==${pyarrow_version}" >&2
"$venv/bin/python" -c "import pyarrow; assert pyarrow.__version__ == '${pyarrow_version}', pyarrow.__version__" >&2
python="$(cd "$venv/bin" && pwd)/python"
echo "export ADSTUDIO_TEST_PYARROW_PYTHON=$python"
echo "export ADSTUDIO_TEST_PYTHON=$python"
