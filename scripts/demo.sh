#!/usr/bin/env bash
# `npm run demo`: installs what is missing (coturn, iptables, Chromium, the
# Synapse venv, livekit-server; node modules), then runs scripts/demo.ts: a local
# Synapse + coturn (as root: hardened, in a network namespace) + the lab MatrixRTC
# stack (LiveKit, the lk-jwt-service stand-in) + the bot, an admin user
# and room, a first `!voiptest` report, and how to log in to see it. Ctrl-C
# stops everything it started.
#   npm run demo                 # interactive: keeps running until Ctrl-C
#   npm run demo -- --once       # exits after printing the report (tests, CI)
#   npm run demo -- --fault NAME # the same stack with one scenario-lab fault (--help lists them)
# The demo needs no browser: MXV_SKIP_CHROMIUM=1 is the default here.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v node >/dev/null 2>&1 || { echo "demo: Node.js 20 is required (https://nodejs.org or Debian's nodesource packages)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "demo: Node.js >= 20 is required (found $(node -v))" >&2; exit 1; }

MXV_SKIP_CHROMIUM="${MXV_SKIP_CHROMIUM:-1}" bash scripts/ensure-deps.sh

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "demo: installing node modules (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi

exec node_modules/.bin/tsx scripts/demo.ts "$@"
