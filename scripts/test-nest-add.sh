#!/usr/bin/env bash
# `nest add`, end to end, from the registry's packages only: a Nest 12 app made by the CLI's own templates
# (`nest new`), the packed package added to it, then the e2e test the schematic wrote, which must pass as
# generated. `nest add <name>` installs <name> from the registry; for the local tarball, npm installs it and
# `nest add --skip-install` runs the same schematic step. Run twice: the second run must change nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Packed from a copy (prepack builds there), so this can run beside scripts that rebuild this tree's dist/.
tar -cf - --exclude=node_modules --exclude=./dist --exclude=./.git --exclude=./.node --exclude=./.tmp \
  --exclude=./sample/dist . | (mkdir "$work/src" && tar -C "$work/src" -xf -)
ln -s "$PWD/node_modules" "$work/src/node_modules"
tarball=$(cd "$work/src" && npm pack --silent --pack-destination "$work" | tail -1)

npm install --prefix "$work/cli" --no-audit --no-fund --loglevel=error @nestjs/cli@^12
cd "$work"
"$work/cli/node_modules/.bin/nest" new app --skip-git --package-manager npm </dev/null >"$work/new.log" ||
  { cat "$work/new.log"; exit 1; }
cd app
npm install --no-audit --no-fund --loglevel=error "$work/$tarball"
npx --no-install nest add nestjs-crossmint-auth --skip-install --global-guard --routes </dev/null
mkdir "$work/first-run" && cp -r src test .env.example "$work/first-run"
npx --no-install nest add nestjs-crossmint-auth --skip-install --global-guard --routes </dev/null
diff -r "$work/first-run/src" src && diff -r "$work/first-run/test" test && diff "$work/first-run/.env.example" .env.example ||
  { echo "nest add: the second run changed files"; exit 1; }
npx --no-install tsc --noEmit -p tsconfig.json
npm run test:e2e
