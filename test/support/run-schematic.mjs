// Runs a schematic with SchematicTestRunner in plain Node and prints, for each job, the resulting files and
// warnings as JSON. A child process because @angular-devkit/schematics requires the ESM-only magic-string, which
// jest cannot require on Node 20 (plain Node 20.19+ can).
// Input on stdin: { collection, schematic, jobs: { [name]: { files: { path: content }, options, times? } } };
// with `times: 2` the schematic runs again on its own result, and `first` holds the files after the first run.
import { readFileSync } from 'node:fs';
import schematics from '@angular-devkit/schematics';
import testing from '@angular-devkit/schematics/testing/index.js';

const input = JSON.parse(readFileSync(0, 'utf8'));
const runner = new testing.SchematicTestRunner('under-test', input.collection);
let warnings = [];
runner.logger.subscribe((entry) => entry.level === 'warn' && warnings.push(entry.message));

const filesOf = (tree) =>
  Object.fromEntries(tree.files.map((path) => [path.replace(/^\//, ''), tree.readContent(path)]));

const results = {};
for (const [name, job] of Object.entries(input.jobs)) {
  warnings = [];
  let tree = new schematics.HostTree();
  for (const [path, content] of Object.entries(job.files)) tree.create(path, content);
  const runs = [];
  for (let i = 0; i < (job.times ?? 1); i++) {
    tree = await runner.runSchematic(input.schematic, job.options, tree);
    runs.push(filesOf(tree));
  }
  results[name] = { files: runs.at(-1), first: runs[0], warnings };
}
process.stdout.write(JSON.stringify(results));
