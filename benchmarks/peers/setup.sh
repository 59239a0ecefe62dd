#!/usr/bin/env bash
# Create one virtual environment per peer library under benchmarks/.venvs/<peer>.
# Peers never enter our own dependencies: each has pins that clash with the others
# (SmartNoise SQL wants an old OpenDP, Tumult wants its own PySpark/pandas).
# Usage: benchmarks/peers/setup.sh [peer ...]   (default: all). Idempotent: a venv with a
# .ok stamp is kept. PYTHON overrides the interpreter (default python3.11).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
venvs="$root/.venvs"
PYTHON="${PYTHON:-python3.11}"
mkdir -p "$venvs"

# Peer name -> pip requirements (by name from PyPI; versions are the newest that install on 3.11).
reqs() {
  case "$1" in
    opendp_polars) echo "opendp[polars]==0.16.0 pyarrow" ;;
    smartnoise_sql) echo "smartnoise-sql==1.0.10 pandas pyarrow" ;;
    pipelinedp) echo "pipeline-dp==0.3.1 pandas pyarrow" ;;
    tumult) echo "tmlt.analytics==0.21.0 pyarrow" ;;
    *) echo "unknown peer $1" >&2; return 1 ;;
  esac
}

status=0
peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(opendp_polars smartnoise_sql pipelinedp tumult)
for peer in "${peers[@]}"; do
  dir="$venvs/$peer"
  if [ -f "$dir/.ok" ]; then echo "[$peer] venv ready: $dir"; continue; fi
  echo "[$peer] creating $dir"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir" || { status=1; continue; }
  "$dir/bin/python" -m pip install --quiet --upgrade pip >"$dir.log" 2>&1
  # shellcheck disable=SC2046
  if "$dir/bin/python" -m pip install $(reqs "$peer") >>"$dir.log" 2>&1; then
    touch "$dir/.ok"
    echo "[$peer] installed"
  else
    echo "[$peer] pip install FAILED; see $dir.log (last lines below)"
    tail -n 5 "$dir.log"
    status=1
  fi
done
exit $status
