#!/usr/bin/env bash
# Runs this repo's own jest suite against Nest 11 (CommonJS) instead of the Nest 12 in devDependencies.
# Copies the working tree (tracked and untracked files, without node_modules, dist, .node and .git) into a temp
# dir, installs the lockfile there, swaps every Nest package for its Nest 11 line, checks that only Nest 11
# is installed, then runs `npm test`. Extra arguments go to jest: scripts/test-nest11.sh guard
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
step() { echo "[nest11 $((SECONDS - started))s] $*"; }

step "copying the working tree to $work"
tar -C "$repo" -cf - --exclude=node_modules --exclude=./dist --exclude=./.git \
  --exclude=./sample/dist --exclude=./coverage --exclude=./.tmp --exclude=./.node . | tar -C "$work" -xf -
cd "$work"

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

# The Nest 11 line of each Nest package in devDependencies. A Nest package not listed here keeps its
# version; if its peers rule out Nest 11, the install below fails and it needs an entry here.
nest11=$(node -e '
  const lines = {
    "@nestjs/common": "^11", "@nestjs/core": "^11", "@nestjs/testing": "^11",
    "@nestjs/platform-express": "^11", "@nestjs/platform-fastify": "^11",
    "@nestjs/microservices": "^11", "@nestjs/websockets": "^11",
    "@nestjs/platform-socket.io": "^11", "@nestjs/platform-ws": "^11", "@nestjs/terminus": "^11",
    "@nestjs/graphql": "^13", "@nestjs/apollo": "^13", "@nestjs/mercurius": "^13", "@nestjs/swagger": "^11",
  };
  const dev = require("./package.json").devDependencies ?? {};
  for (const name of Object.keys(dev).filter((name) => name.startsWith("@nestjs/"))) {
    if (lines[name]) console.log(`${name}@${lines[name]}`);
    else console.error(`note: ${name} keeps ${dev[name]}`);
  }
')
step "npm install --no-save" $nest11
# shellcheck disable=SC2086 # one package spec per word
npm install --no-save --no-audit --no-fund --loglevel=error $nest11

# Every copy of @nestjs/common and @nestjs/core in the tree must be 11.x, or the run proves nothing.
node -e '
  const { execFileSync } = require("node:child_process");
  const found = execFileSync("find", ["node_modules", "-regextype", "posix-extended", "-regex", "(.*/)?node_modules/@nestjs/[^/]+/package\\.json"], { encoding: "utf8" })
    .split("\n").filter(Boolean)
    .map((file) => ({ file, ...JSON.parse(require("node:fs").readFileSync(file, "utf8")) }));
  for (const { name, version, file } of found) console.log(`  ${name}@${version}  ${file}`);
  const wrong = found.filter(({ name, version }) => ["@nestjs/common", "@nestjs/core"].includes(name) && !version.startsWith("11."));
  if (wrong.length || !found.some(({ name }) => name === "@nestjs/core")) {
    console.error("expected only Nest 11 @nestjs/common and @nestjs/core");
    process.exit(1);
  }
'

step "npm test $*"
npm test -- "$@"
step "passed on Nest $(node -p 'require("./node_modules/@nestjs/core/package.json").version')"
