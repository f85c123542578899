// Builds the dual package: dist/esm (ESM, for Nest 12) and dist/cjs (CommonJS, for Nest 11), each folder
// marked with its own package.json "type" so Node and jest load each build the way it was compiled.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const tsc = (project) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('tsconfig.build-cjs.json');
for (const [folder, type] of [
  ['esm', 'module'],
  ['cjs', 'commonjs'],
]) {
  mkdirSync(`dist/${folder}`, { recursive: true });
  writeFileSync(`dist/${folder}/package.json`, JSON.stringify({ type }, null, 2) + '\n');
}
execFileSync(process.execPath, ['scripts/build-schematics.mjs'], { stdio: 'inherit' });
