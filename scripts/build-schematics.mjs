// Builds the `nest add` schematic as CommonJS (what @angular-devkit/schematics loads) into dist/schematics, or
// into the folder given as the first argument (the schematic's unit tests build into a temporary folder).
// File by file with transpileModule: `npm run typecheck` checks the types.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const out = process.argv[2] ?? 'dist/schematics';
mkdirSync(join(out, 'nest-add'), { recursive: true });
for (const file of readdirSync('schematics/nest-add')) {
  const from = join('schematics/nest-add', file);
  if (file.endsWith('.json')) cpSync(from, join(out, 'nest-add', file));
  if (!file.endsWith('.ts')) continue;
  const { outputText } = ts.transpileModule(readFileSync(from, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: file,
  });
  writeFileSync(join(out, 'nest-add', file.replace(/\.ts$/, '.js')), outputText);
}
cpSync('schematics/collection.json', join(out, 'collection.json'));
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');
