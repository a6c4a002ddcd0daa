#!/usr/bin/env bash
# Installs the PyTorch peer's dependencies (Debian's python3-torch, python3-scipy, python3-numpy)
# when they are missing. Only acts as root with apt-get available; otherwise it says what to run
# and exits 0, so `npm run bench` goes on without the peer.
set -u
PY=/usr/bin/python3
have_peer() {
  [ -x "$PY" ] && "$PY" -c 'import torch, scipy, numpy' >/dev/null 2>&1
}
if have_peer; then
  echo "bench/setup.sh: peer dependencies present ($("$PY" -c 'import torch, scipy, numpy; print("torch", torch.__version__, "scipy", scipy.__version__, "numpy", numpy.__version__)'))"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench/setup.sh: installing python3-torch python3-scipy with apt-get (a few minutes the first time)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends python3-torch python3-scipy python3-numpy; then
    echo "bench/setup.sh: apt-get install failed; trying apt-get update first"
    apt-get update && apt-get install -y --no-install-recommends python3-torch python3-scipy python3-numpy
  fi
  if have_peer; then
    echo "bench/setup.sh: peer dependencies installed"
  else
    echo "bench/setup.sh: WARNING: the install did not give a working '$PY -c \"import torch, scipy\"'; the bench will run without the PyTorch peer"
  fi
else
  echo "bench/setup.sh: the PyTorch peer needs Debian's python3-torch and python3-scipy, which are missing."
  echo "  Install them with:  sudo apt-get install -y python3-torch python3-scipy"
  echo "  The bench continues without the peer (no ratios, no cross-checks)."
fi
exit 0
