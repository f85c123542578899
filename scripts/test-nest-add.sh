#!/usr/bin/env bash
# `nest add`, end to end, from the registry's packages only: for each Nest major given (11, 12), an app made by
# that CLI's own templates (`nest new`: Nest 11 is CommonJS with jest and ts-jest, Nest 12 ESM with vitest), the
# packed package added to it, then the e2e test the schematic wrote, which must pass as generated under the
# app's own test config. `nest add <name>` installs <name> from the registry; for the local tarball, npm
# installs it and `nest add --skip-install` runs the same schematic step. Run twice: the second run must change
# nothing.
# Usage: scripts/test-nest-add.sh [--tarball FILE] MAJOR... (e.g. `12 11`). Without --tarball it packs a copy of
# this tree (prepack builds there), so it can run beside scripts that rebuild this tree's dist/. The majors run
# side by side; each CLI is installed and runs `nest new` while the package is packed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tarball=
if [[ ${1:-} == --tarball ]]; then
  tarball="$(realpath "$2")"
  shift 2
fi
[[ $# -gt 0 ]] || { echo "usage: scripts/test-nest-add.sh [--tarball FILE] MAJOR..." >&2; exit 2; }
work=$(mktemp -d)
# Removing the apps (about 600 MB of small files) takes ~20 s: done in the background, so CI moves on.
trap 'rm -rf "$work" &' EXIT
started=$SECONDS

# Cached registry metadata is reused (version ranges still apply); a cold cache simply fetches.
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false npm_config_loglevel=error

step() { echo "[nest-add $1 $((SECONDS - started))s] ${*:2}"; }

# new_app <major>: `nest new` with the newest CLI of that major (its own install: the CLI finds its templates,
# @nestjs/schematics, beside it).
new_app() {
  step "$1" "npm install @nestjs/cli@^$1"
  npm install --prefix "$work/cli$1" "@nestjs/cli@^$1"
  step "$1" "nest new (@nestjs/cli $(node -p 'require(process.argv[1]).version' "$work/cli$1/node_modules/@nestjs/cli/package.json"))"
  (cd "$work" && "$work/cli$1/node_modules/.bin/nest" new "app$1" --skip-git --skip-install --package-manager npm \
    </dev/null >"$work/new$1.log") || { cat "$work/new$1.log"; return 1; }
}

# add_and_test <major>: the template's dependencies and the tarball (one npm install: a second one into the
# installed tree costs about as long as a small first one), `nest add` twice, a type-check and the app's own
# e2e tests.
add_and_test() {
  cd "$work/app$1"
  step "$1" "npm install (the app's dependencies and $(basename "$tarball"))"
  npm install "$tarball"
  step "$1" "nest add, twice"
  npx --no-install nest add nestjs-crossmint-auth --skip-install --global-guard --routes </dev/null
  mkdir "$work/first-run$1" && cp -r src test .env.example "$work/first-run$1"
  npx --no-install nest add nestjs-crossmint-auth --skip-install --global-guard --routes </dev/null
  diff -r "$work/first-run$1/src" src && diff -r "$work/first-run$1/test" test &&
    diff "$work/first-run$1/.env.example" .env.example || { echo "nest add: the second run changed files"; return 1; }
  step "$1" "format and lint checks on the files it wrote (the app's own Prettier, ESLint or oxlint)"
  npx --no-install prettier --check src test
  if [[ $1 == 11 ]]; then
    npx --no-install eslint --max-warnings 0 src/app.module.ts src/app.controller.ts test/app.e2e-spec.ts \
      test/crossmint-auth.e2e-spec.ts
  else
    npm run lint
  fi
  step "$1" "tsc --noEmit, npm run test:e2e"
  npx --no-install tsc --noEmit -p tsconfig.json
  npm run test:e2e
  step "$1" "passed"
}

declare -A pids
for major in "$@"; do
  new_app "$major" >"$work/$major.log" 2>&1 &
  pids[$major]=$!
done
if [[ -z $tarball ]]; then
  step all "npm pack (a copy of this tree)"
  tar -C "$repo" -cf - --exclude=node_modules --exclude=./dist --exclude=./.git --exclude=./.node --exclude=./.tmp \
    --exclude=./sample/dist . | (mkdir "$work/src" && tar -C "$work/src" -xf -)
  ln -s "$repo/node_modules" "$work/src/node_modules"
  tarball="$work/$(cd "$work/src" && npm pack --silent --pack-destination "$work" | tail -1)"
fi
# Each app's tests start as soon as its `nest new` is done (in the order given).
declare -A failed
for major in "$@"; do
  if wait "${pids[$major]}"; then
    add_and_test "$major" >>"$work/$major.log" 2>&1 &
    pids[$major]=$!
  else
    failed[$major]=1
  fi
done
status=0
for major in "$@"; do
  [[ -z ${failed[$major]:-} ]] && wait "${pids[$major]}" || { failed[$major]=1; status=1; }
  echo "---- Nest $major: $([[ -n ${failed[$major]:-} ]] && echo FAIL || echo PASS) ----"
  cat "$work/$major.log"
done
step all "done"
exit "$status"
