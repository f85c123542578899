#!/usr/bin/env bash
# Installs the packed package into two scratch apps and runs jest e2e tests in each, the way users do:
#   nest11-cjs: Nest 11, CommonJS, ts-jest in its default (CommonJS, type-checking) mode -> require condition
#   nest12-esm: Nest 12, "type": "module", jest in ESM mode like this repo            -> import condition
# Each app's jest.config.js and tsconfig.json are the blocks docs/platforms.md shows for it (marked
# `<!-- consumer: <app>/<file> -->`), and its tests are README's emulator recipe (test/readme/, which the docs
# check holds equal to the README) plus a test that boots CrossmintAuthModule.forRoot(emulator.moduleOptions())
# and checks over real HTTP that a valid session passes and a request without credentials gets 401. Each app is
# type-checked with skipLibCheck: false, so the package's declarations must hold on Nest 11 and 12.
# Usage: scripts/test-consumers.sh [--tarball FILE] [major ...] (from a clone after `npm ci`; without
# --tarball, npm pack builds the package itself, through prepack, from a clone without dist/; CI packs once and
# passes the tarball to this script and scripts/test-nest-add.sh). Each app is installed and type-checked once,
# then its test runs on the node on PATH and again on each Node major given (scripts/install-node.sh 22 24:
# .node/<major>/bin first on PATH): the installed tree has no Node-ABI-bound addon, so a Node line needs its own
# run, not its own install.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tarball=
if [[ ${1:-} == --tarball ]]; then
  tarball="$(realpath "$2")"
  shift 2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

# --prefer-offline reuses cached registry metadata (version ranges still apply): a warm run takes ~35 s
# instead of ~2 min; a cold cache simply fetches.
npm_install() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }

# The other Node lines, installed here and not in the parallel subshells below.
node_bins=()
for major in "$@"; do node_bins+=("$(bash "$repo/scripts/install-node.sh" "$major")"); done

# run_tests <command...>: the app's test on the node on PATH, then on each Node line asked for; all of them
# run, and it fails if any failed.
run_tests() {
  local bin status=0
  for bin in "" "${node_bins[@]}"; do
    echo "== on node $(PATH="${bin:+$bin:}$PATH" node --version)"
    PATH="${bin:+$bin:}$PATH" "$@" || status=1
  done
  return "$status"
}

cd "$repo"
if [[ -z $tarball ]]; then
  rm -rf dist # packing must build (prepack), as in a fresh clone
  tarball="$work/$(npm pack --pack-destination "$work" --loglevel=error | tail -n 1)"
  echo "packed $(basename "$tarball") ($((SECONDS - started))s)"
fi

# doc_file <app>/<file> <dest>: the code block docs/platforms.md marks `<!-- consumer: <app>/<file> -->`.
doc_file() {
  awk -v marker="<!-- consumer: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$repo/docs/platforms.md" > "$2"
  [[ -s $2 ]] || { echo "docs/platforms.md has no block for $1" >&2; return 1; }
}

# write_spec <dir> <nest major>: README's emulator recipe, and a test of its own.
write_spec() {
  mkdir -p "$1/test"
  cp "$repo/test/readme/emulator-recipe.e2e.spec.ts" "$1/test/readme-recipe.e2e.spec.ts"
  cat > "$1/test/app.e2e.spec.ts" <<EOF
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { readFileSync } from 'node:fs';
import { CrossmintAuthGuard, CrossmintAuthModule, CurrentUser } from 'nestjs-crossmint-auth';
import type { CrossmintCredentials, HttpContext, RequestLike, ResponseLike } from 'nestjs-crossmint-auth';
import { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';

// The types public signatures use are exported (TS2305 otherwise).
export type PublicTypes = [CrossmintCredentials, HttpContext, RequestLike, ResponseLike];

@Controller()
class AppController {
  @Get('me')
  @UseGuards(CrossmintAuthGuard)
  me(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

describe('nestjs-crossmint-auth installed from the packed tarball', () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    @Module({ imports: [CrossmintAuthModule.forRoot({ ...emulator.moduleOptions() })], controllers: [AppController] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('runs on Nest $2', () => {
    const { version } = JSON.parse(readFileSync('node_modules/@nestjs/core/package.json', 'utf8'));
    expect(version.split('.')[0]).toBe('$2');
  });

  it('lets a valid session through', async () => {
    const session = await emulator.createSession();
    const res = await fetch(\`\${url}/me\`, { headers: { cookie: \`crossmint-jwt=\${session.jwt}\` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: session.userId });
  });

  it('answers 401 without credentials', async () => {
    const res = await fetch(\`\${url}/me\`);
    expect(res.status).toBe(401);
  });
});
EOF
}

setup_nest11_cjs() {
  local dir="$work/nest11-cjs"
  mkdir -p "$dir"
  echo '{ "name": "consumer-nest11-cjs", "private": true }' > "$dir/package.json"
  doc_file nest11-cjs/tsconfig.json "$dir/tsconfig.json"
  doc_file nest11-cjs/jest.config.js "$dir/jest.config.js"
  # The current Nest 11 starter's resolution (nodenext in a CommonJS package): type-checked with tsc too.
  cat > "$dir/tsconfig.nodenext.json" <<'EOF'
{ "extends": "./tsconfig.json", "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext" } }
EOF
  write_spec "$dir" 11
  cd "$dir"
  npm_install @nestjs/common@^11 @nestjs/core@^11 @nestjs/platform-express@^11 @nestjs/testing@^11 \
    reflect-metadata rxjs jest@^30 @jest/globals@^30 ts-jest@^29 typescript@~5.9 supertest @types/supertest \
    @types/node@^20 "$tarball"
  node_modules/.bin/tsc --noEmit --skipLibCheck false -p tsconfig.json
  node_modules/.bin/tsc --noEmit --skipLibCheck false -p tsconfig.nodenext.json
  run_tests node node_modules/jest/bin/jest.js
}

setup_nest12_esm() {
  local dir="$work/nest12-esm"
  mkdir -p "$dir"
  echo '{ "name": "consumer-nest12-esm", "private": true, "type": "module" }' > "$dir/package.json"
  doc_file nest12-esm/tsconfig.json "$dir/tsconfig.json"
  doc_file nest12-esm/jest.config.js "$dir/jest.config.js"
  write_spec "$dir" 12
  cd "$dir"
  npm_install @nestjs/common@^12 @nestjs/core@^12 @nestjs/platform-express@^12 @nestjs/testing@^12 \
    reflect-metadata rxjs jest@^30 @jest/globals@^30 ts-jest@^29 typescript@~5.9 supertest @types/supertest \
    @types/node@^20 "$tarball"
  # isolatedModules makes ts-jest transpile only: type-check the way the docs say.
  node_modules/.bin/tsc --noEmit --skipLibCheck false -p tsconfig.json
  run_tests node --experimental-vm-modules node_modules/jest/bin/jest.js
}

# Both consumers install and test in parallel; each runs in its own subshell with errexit active.
consumers=(nest11-cjs nest12-esm)
pids=()
for name in "${consumers[@]}"; do
  (
    begin=$SECONDS
    trap 'echo $((SECONDS - begin)) > "$work/$name.seconds"' EXIT
    "setup_${name//-/_}"
  ) > "$work/$name.log" 2>&1 &
  pids+=("$!")
done

failed=0
summary=()
for i in "${!consumers[@]}"; do
  name="${consumers[$i]}"
  status=PASS
  wait "${pids[$i]}" || status=FAIL
  if [[ $status == FAIL ]]; then
    failed=1
    echo "---- $name log ----"
    cat "$work/$name.log"
  fi
  # One "node vX Tests: ..." per Node line, from the "== on node" marker and jest's Tests: line after it.
  results=$(awk '/^== on node /{n=$4} /^Tests: /{sub(/^Tests: +/, ""); printf "%snode %s: %s", sep, n, $0; sep="; "}' "$work/$name.log")
  summary+=("$name: $status ($(cat "$work/$name.seconds")s, ${results:-no jest result})")
done
printf '%s\n' "${summary[@]}"
echo "consumers total $((SECONDS - started))s"
exit "$failed"
