#!/usr/bin/env bash
# Mirrors the Dockerfile without Docker (CI runs it; no Docker engine here):
#   1. production install from the lockfile (npm ci --omit=dev) into a temp dir,
#      so a runtime import of a dev dependency fails here as it would in the image;
#   2. the production TypeScript build (docker/tsconfig.build.json);
#   3. the runtime: CLI and bot entry start, every compiled module loads with
#      only production deps, better-sqlite3 opens a database, a bad config exits 2.
# The native better-sqlite3 addon is reused from ./node_modules (the image
# compiles it in its build stage; compiling here takes ~70 s).
# Fast (~15 s) and offline when the npm cache is warm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { echo "check-docker: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mxv-check-docker-XXXXXX")
trap 'rm -rf "$T"' EXIT

say "1/3 production install (npm ci --omit=dev) in $T"
cp package.json package-lock.json "$T/"
cp -r stubs "$T/"
(cd "$T" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null) || fail "npm ci --omit=dev"
for dev in typescript jest ts-jest tsx playwright-core esbuild; do
  [ ! -e "$T/node_modules/$dev" ] || fail "dev dependency $dev landed in the production tree"
done
native=node_modules/better-sqlite3/build/Release/better_sqlite3.node
[ -f "$native" ] || fail "$native missing: run npm ci first"
mkdir -p "$T/$(dirname "$native")"
cp "$native" "$T/$native"

say "2/3 production build (tsc -p docker/tsconfig.build.json)"
npx --no-install tsc -p docker/tsconfig.build.json --outDir "$T/dist" || fail "tsc build"
if [ -d src/web/static ]; then mkdir -p "$T/dist/src/web" && cp -r src/web/static "$T/dist/src/web/"; fi
# The helper page bundle is prebuilt (esbuild is a dev dependency, absent at runtime).
npx --no-install tsx src/web/assets.ts "$T/dist/src/web/static" >/dev/null || fail "helper page bundle"
[ -s "$T/dist/src/web/static/helper.js" ] || fail "dist/src/web/static/helper.js missing"
[ -f "$T/dist/src/main.js" ] || fail "dist/src/main.js missing"
[ -f "$T/dist/src/cli.js" ] || fail "dist/src/cli.js missing"

say "3/3 runtime with production deps only"
cd "$T"
export NODE_ENV=production
timeout 30 node dist/src/cli.js check --help | grep -q 'voiptest check' || fail "cli --help"
timeout 30 node dist/src/main.js --help | grep -q 'usage' || fail "bot --help"
timeout 30 node -e "
const D = require('better-sqlite3'); const db = new D(':memory:');
if (db.prepare('select 41 + 1 as x').get().x !== 42) process.exit(1);" || fail "better-sqlite3"
# Every module loads (entry points and generators excluded: they act on load).
timeout 60 node -e "
const fs = require('fs'), path = require('path');
const skip = new Set(['dist/src/main.js', 'dist/src/cli.js', 'dist/src/config/write-sample.js']);
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
let n = 0;
for (const f of walk('dist/src')) {
  if (!f.endsWith('.js') || skip.has(f) || f.includes('/static/')) continue;
  try { require(path.resolve(f)); n++; } catch (e) { console.error(f + ': ' + e.message); process.exit(1); }
}
console.error('check-docker: loaded ' + n + ' modules');
process.exit(0);" || fail "a module does not load with production deps"
timeout 30 node -e "
require('./dist/src/web/assets').loadAssets().then((a) => {
  if (!a['helper.js'].body.length || !String(a['helper.html'].body).includes('helper.js')) process.exit(1);
}, (e) => { console.error(e.message); process.exit(1); });" || fail "the helper page assets do not load with production deps"
printf 'nonsense: [\n' > bad.yaml
set +e
timeout 30 node dist/src/main.js --config bad.yaml >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "bot with a bad config exited $rc, expected 2"
cd "$ROOT"
say "ok"
