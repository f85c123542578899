// Runs one schematic with SchematicTestRunner in plain Node and prints the resulting files and warnings as JSON.
// A child process because @angular-devkit/schematics requires the ESM-only magic-string, which jest cannot
// require on Node 20 (plain Node 20.19+ can).
// Input on stdin: { collection, schematic, options, files: { path: content } }.
const { HostTree } = require('@angular-devkit/schematics');
const { SchematicTestRunner } = require('@angular-devkit/schematics/testing');

async function main() {
  const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
  const runner = new SchematicTestRunner('under-test', input.collection);
  const warnings = [];
  runner.logger.subscribe((entry) => entry.level === 'warn' && warnings.push(entry.message));
  const tree = new HostTree();
  for (const [path, content] of Object.entries(input.files)) tree.create(path, content);
  const result = await runner.runSchematic(input.schematic, input.options, tree);
  const files = Object.fromEntries(result.files.map((path) => [path.replace(/^\//, ''), result.readContent(path)]));
  process.stdout.write(JSON.stringify({ files, warnings }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
