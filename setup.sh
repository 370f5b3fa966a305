#!/usr/bin/env bash
# One entry point for a fresh Debian machine (run as root, or with sudo available):
#   ./setup.sh run    install everything, then start the kiosk
#   ./setup.sh test   install everything, then run the whole test suite
#   ./setup.sh bench  install everything, then print the benchmark figures
# Installing is idempotent and quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  python3 python3-venv python3-dev  # the interpreter and virtualenv
  espeak-ng                         # speech synthesis behind pyttsx3, phonemes for new words
  libportaudio2 libsndfile1         # sounddevice and soundfile
  alsa-utils libasound2-plugins     # ALSA's pulse plugin: how PortAudio reaches PulseAudio
  pulseaudio pulseaudio-utils       # the audio server (tests start a headless, virtual one)
  sox festival festvox-kdlpc16k flite  # test voices and the spoken dev set
  sphinxtrain sphinxbase-utils pocketsphinx  # bw, mllr_solve, sphinx_fe: a hard voice is heard again adapted
  tmux                              # tests drive the text mode in a real terminal
  chromium fonts-dejavu-core        # the screen tests: a real browser and the page's font
)
VENV=.venv

have_all_debs() {
  dpkg-query -W -f='${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null | grep -vc "install ok installed" | grep -qx 0
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

install() {
  if ! have_all_debs; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    touch "$VENV/.installed"
  fi
  # axe-core checks the screen's accessibility in the tests (a pinned npm package, kept in the venv)
  if [ ! -f "$VENV/node/node_modules/axe-core/axe.min.js" ]; then
    command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
    npm install --prefix "$VENV/node" --no-audit --no-fund --silent axe-core@4.14.1
  fi
}

cmd="${1:-run}"
shift || true
case "$cmd" in
  install) install ;;
  run) install; exec "$VENV/bin/kiosk" "$@" ;;
  test)
    install
    "$VENV/bin/ruff" check kiosk tests bench
    "$VENV/bin/mypy" kiosk
    exec "$VENV/bin/python" -m pytest "$@" ;;
  bench) install; exec "$VENV/bin/python" bench/run_all.py "$@" ;;
  *) echo "usage: ./setup.sh [run|test|bench|install] [args...]" >&2; exit 2 ;;
esac
