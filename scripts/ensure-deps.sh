#!/usr/bin/env bash
# Installs what the local lab needs, only when it is missing (idempotent; run by
# `npm test` and `npm run demo` on a fresh Debian 12 machine as root):
#   - Debian packages: coturn (turnserver), iptables, openssl, iproute2 (ip),
#     chromium and its emoji font (only when missing), python3/python3-venv;
#     `apt-get update` runs once, and only when something is missing.
#   - the Synapse virtualenv, outside the repo so fresh clones on the same
#     machine reuse it: ${MXV_SYNAPSE_VENV:-$HOME/.cache/mx-voiptest/synapse-venv}.
#   - livekit-server v1.9.11 (the MatrixRTC lab's SFU), built from the Go module
#     proxy once (Debian's golang when go is missing), cached outside the repo:
#     ${MXV_LIVEKIT_BIN:-$HOME/.cache/mx-voiptest/livekit-server-v1.9.11}.
#   - the matrix-nio (with its crypto) virtualenv for the end-to-end encryption
#     tests: ${MXV_NIO_VENV:-$HOME/.cache/mx-voiptest/nio-venv}.
# Never leaves Debian's coturn system service running: the lab starts its own
# turnservers on free ports, and a system one on 3478 would answer tests that
# meant to reach nothing.
# Node modules are not handled here (scripts/test.sh does that).
# Env: MXV_SYNAPSE_VENV (venv path), MXV_SYNAPSE_VERSION (pip spec, e.g. "==1.130.0"),
#      MXV_SKIP_SYNAPSE=1 (skip the venvs), MXV_SKIP_CHROMIUM=1, MXV_SKIP_XMPP=1 (no Prosody/ejabberd),
#      MXV_NIO_VENV (nio venv path), MXV_LIVEKIT_BIN, MXV_SKIP_LIVEKIT=1.
# Prosody's and ejabberd's system services are not started (policy-rc.d below): the lab runs its own.
set -euo pipefail

say() { echo "ensure-deps: $*" >&2; }
die() { say "error: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else SUDO=(__need_root__); fi
fi

# Serialise parallel runs (two test shards on one machine) on apt and the venv.
LOCK_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/mx-voiptest"
mkdir -p "$LOCK_DIR"
exec 9>"$LOCK_DIR/ensure-deps.lock"
if command -v flock >/dev/null 2>&1; then flock -w 900 9 || die "another ensure-deps run holds $LOCK_DIR/ensure-deps.lock"; fi

# --- Debian packages --------------------------------------------------------
# "package:probe" pairs; the probe is a command that succeeds when present.
missing=()
need() { # need PACKAGE PROBE...
  local pkg=$1; shift
  if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
need coturn   command -v turnserver
need iptables command -v iptables
need openssl  command -v openssl
need iproute2 command -v ip
need procps   command -v ps
# XMPP lab (#14): Prosody (its DNS library lua-unbound, else it stops at a prompt) and ejabberd.
if [ "${MXV_SKIP_XMPP:-0}" != 1 ]; then
  need prosody     test -x /usr/bin/prosody
  need lua-unbound lua5.4 -e 'require "lunbound"'
  need ejabberd    test -x /usr/sbin/ejabberdctl
fi
if [ "${MXV_SKIP_CHROMIUM:-0}" != 1 ]; then
  need chromium test -x /usr/bin/chromium
  # The report screenshots (test-artifacts/, docs/report.png) show status emoji.
  need fonts-noto-color-emoji test -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
fi
LIVEKIT_BIN="${MXV_LIVEKIT_BIN:-$HOME/.cache/mx-voiptest/livekit-server-v1.9.11}"
if [ "${MXV_SKIP_LIVEKIT:-0}" != 1 ] && [ ! -x "$LIVEKIT_BIN" ]; then need golang-go command -v go; fi
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif [ "${MXV_SKIP_SYNAPSE:-0}" != 1 ] && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian's system python ships venv without ensurepip until python3-venv is in.
  missing+=(python3-venv)
fi

had_coturn=1
command -v turnserver >/dev/null 2>&1 || had_coturn=0

if [ ${#missing[@]} -gt 0 ]; then
  [ "${SUDO[0]:-}" = __need_root__ ] && die "missing ${missing[*]}; run as root (or with sudo) to install them"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
  say "installing ${missing[*]}"
  # Keep services from starting during install (Debian's policy-rc.d protocol:
  # exit 101 = "not allowed"). Respect an existing policy file (Docker images
  # ship one) and remove ours afterwards.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    own_policy=1
  fi
  trap '[ "$own_policy" = 1 ] && "${SUDO[@]}" rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  if [ "$own_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; own_policy=0; fi
fi

# --- No system coturn -------------------------------------------------------
# Only act on Debian's service (never on lab turnservers, which run from
# their own temp config on other ports).
stop_system_coturn() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    if systemctl is-active --quiet coturn 2>/dev/null; then
      say "stopping the coturn system service"
      "${SUDO[@]}" systemctl stop coturn || true
    fi
    if systemctl is-enabled --quiet coturn 2>/dev/null; then
      "${SUDO[@]}" systemctl disable --quiet coturn 2>/dev/null || true
    fi
  elif [ -x /etc/init.d/coturn ]; then
    "${SUDO[@]}" /etc/init.d/coturn stop >/dev/null 2>&1 || true
  fi
  # A leftover started by the init script writes this pidfile.
  for pf in /run/turnserver/turnserver.pid /var/run/turnserver.pid /run/turnserver.pid; do
    if [ -r "$pf" ]; then
      pid=$(cat "$pf" 2>/dev/null || true)
      if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = turnserver ]; then
        say "stopping system turnserver (pid $pid)"
        "${SUDO[@]}" kill "$pid" 2>/dev/null || true
      fi
    fi
  done
}
if [ "$had_coturn" = 0 ] || [ -d /run/systemd/system ]; then stop_system_coturn; fi
if command -v ss >/dev/null 2>&1 && ss -Hlnu 'sport = :3478' 2>/dev/null | grep -q .; then
  say "warning: something listens on UDP 3478 (a system turnserver?); lab tests use their own ports, but check: ss -lnup 'sport = :3478'"
fi

# --- Synapse virtualenv -----------------------------------------------------
if [ "${MXV_SKIP_SYNAPSE:-0}" != 1 ]; then
  VENV="${MXV_SYNAPSE_VENV:-$HOME/.cache/mx-voiptest/synapse-venv}"
  # The marker is written only after a verified install: checking it is
  # instant, where importing synapse takes seconds.
  if [ ! -f "$VENV/.mxv-ok" ] || [ ! -x "$VENV/bin/python" ]; then
    say "creating the Synapse venv in $VENV (one-off, about a minute)"
    mkdir -p "$(dirname "$VENV")"
    [ -d "$VENV" ] && rm -rf "$VENV"   # a half-made venv from an interrupted run
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >&2 || true
    "$VENV/bin/pip" install -q "matrix-synapse${MXV_SYNAPSE_VERSION:-}" >&2
    "$VENV/bin/python" -c 'import synapse.app.homeserver' || die "Synapse venv at $VENV does not import synapse"
    "$VENV/bin/python" -c 'import synapse; print(synapse.__version__)' >"$VENV/.mxv-ok"
  fi
fi

# --- matrix-nio virtualenv (a real E2EE client for the encryption tests) ------
if [ "${MXV_SKIP_SYNAPSE:-0}" != 1 ]; then
  NIO_VENV="${MXV_NIO_VENV:-$HOME/.cache/mx-voiptest/nio-venv}"
  if [ ! -f "$NIO_VENV/.mxv-ok" ] || [ ! -x "$NIO_VENV/bin/python" ]; then
    say "creating the matrix-nio venv in $NIO_VENV (one-off, under a minute)"
    mkdir -p "$(dirname "$NIO_VENV")"
    [ -d "$NIO_VENV" ] && rm -rf "$NIO_VENV"
    python3 -m venv "$NIO_VENV"
    "$NIO_VENV/bin/pip" install -q "matrix-nio[e2e]==0.26.0" >&2
    "$NIO_VENV/bin/python" -c 'import nio.crypto as c; assert c.ENCRYPTION_ENABLED' || die "matrix-nio venv at $NIO_VENV has no crypto"
    "$NIO_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("matrix-nio"))' >"$NIO_VENV/.mxv-ok"
  fi
fi

# --- LiveKit server (MatrixRTC lab) -------------------------------------------
# v1.9.11: newer releases `replace` pion modules with LiveKit forks this module
# proxy does not serve. `go install pkg@version` refuses a module with replace
# directives in general, so: download the module, copy it out of the read-only
# module cache, build ./cmd/server there.
if [ "${MXV_SKIP_LIVEKIT:-0}" != 1 ] && [ ! -x "$LIVEKIT_BIN" ]; then
  say "building livekit-server v1.9.11 into $LIVEKIT_BIN (one-off, about a minute)"
  mod_dir=$(go mod download -json github.com/livekit/livekit-server@v1.9.11 | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$mod_dir" ] && [ -d "$mod_dir" ] || die "go mod download github.com/livekit/livekit-server@v1.9.11 gave no module directory"
  build_dir=$(mktemp -d)
  cp -r "$mod_dir"/. "$build_dir"/
  chmod -R u+w "$build_dir"
  mkdir -p "$(dirname "$LIVEKIT_BIN")"
  (cd "$build_dir" && go build -o "$LIVEKIT_BIN.tmp" ./cmd/server) || { rm -rf "$build_dir"; die "building livekit-server failed"; }
  mv "$LIVEKIT_BIN.tmp" "$LIVEKIT_BIN"
  rm -rf "$build_dir"
fi

say "ok"
