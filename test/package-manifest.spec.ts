/**
 * The published package is only as correct as its manifest: every `exports` target has to exist after a
 * build and ship in `files`, and everything the built code imports has to be a dependency or a peer of
 * the user's app. Checked here so packaging bugs surface before users meet them; scripts/test-consumers.sh
 * installs the packed tarball into real Nest 11 (CommonJS) and Nest 12 (ESM) apps.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const libDir = join(root, 'lib');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const dependencies = Object.keys(manifest.dependencies ?? {});
const peerDependencies = Object.keys(manifest.peerDependencies ?? {});
const declared = new Set([...dependencies, ...peerDependencies]);

/** lib sources, relative to lib/, with forward slashes. */
const libFiles = (readdirSync(libDir, { recursive: true }) as string[])
  .map((file) => file.split(sep).join('/'))
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
  .sort();

function readLib(file: string): string {
  // Comments may mention anything; only code counts.
  return readFileSync(join(libDir, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

/** Every module specifier in a source or build file: static, side-effect, dynamic, require and type imports. */
function specifiersOf(code: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]));
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);
}

function packageName(specifier: string): string {
  const segments = specifier.split('/');
  return specifier.startsWith('@') ? segments.slice(0, 2).join('/') : segments[0];
}

/** Bare package names imported by `code` (relative imports and node builtins left out). */
function packagesOf(code: string): string[] {
  return specifiersOf(code)
    .filter((specifier) => !specifier.startsWith('.') && !isBuiltin(specifier))
    .map(packageName);
}

/** Every file path named in `exports`, through all conditions. */
function exportTargets(value: unknown = manifest.exports): string[] {
  return typeof value === 'string' ? [value] : Object.values(value as object).flatMap((next) => exportTargets(next));
}

const builds = { esm: 'module', cjs: 'commonjs' } as const;

/** True when dist/ holds a build of every current lib file at least as new as its source. */
function distIsCurrent(): boolean {
  for (const [folder, type] of Object.entries(builds)) {
    const marker = join(root, 'dist', folder, 'package.json');
    if (!existsSync(marker) || JSON.parse(readFileSync(marker, 'utf8')).type !== type) return false;
    for (const file of libFiles) {
      const built = join(root, 'dist', folder, file.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(libDir, file)).mtimeMs) return false;
    }
  }
  return true;
}

describe('Package manifest', () => {
  const typesVersionsTargets: string[] = Object.values(manifest.typesVersions?.['*'] ?? {}).flat() as string[];
  const targets = [
    ...new Set([...exportTargets(), manifest.main, manifest.module, manifest.types, ...typesVersionsTargets]),
  ];

  it('routes import to the ESM build and require to the CommonJS build, types first', () => {
    for (const [subpath, value] of Object.entries(manifest.exports)) {
      if (subpath === './package.json') continue;
      const conditions = value as Record<string, Record<string, string>>;
      expect(Object.keys(conditions)).toEqual(['import', 'require']);
      for (const [condition, folder] of [
        ['import', 'esm'],
        ['require', 'cjs'],
      ]) {
        expect(Object.keys(conditions[condition])).toEqual(['types', 'default']);
        expect(conditions[condition].default).toMatch(new RegExp(`^\\./dist/${folder}/.+\\.js$`));
        expect(conditions[condition].types).toBe(conditions[condition].default.replace(/\.js$/, '.d.ts'));
      }
    }
    expect(manifest.exports['./package.json']).toBe('./package.json');
  });

  it('maps every subpath in typesVersions, for TypeScript\'s node10 resolution ("module": "commonjs")', () => {
    // node10 ignores exports; without typesVersions `import ... from 'nestjs-crossmint-auth/testing'` fails to
    // type-check in a classic Nest tsconfig. Same build folder as `types`, so one copy of each declaration.
    const subpaths = Object.keys(manifest.exports).filter((subpath) => subpath !== '.' && subpath !== './package.json');
    const expected = Object.fromEntries(
      subpaths.map((subpath) => [subpath.slice(2), [manifest.exports[subpath].import.types]]),
    );
    expect(manifest.typesVersions).toEqual({ '*': expected });
    expect(manifest.types).toBe(manifest.exports['.'].import.types);
  });

  it('ships every exports target, main, module, types and typesVersions target in files', () => {
    const files: string[] = manifest.files.map((entry: string) => entry.replace(/^\.\//, '').replace(/\/$/, ''));
    const shipped = (path: string) =>
      path === 'package.json' || files.some((entry) => path === entry || path.startsWith(`${entry}/`));
    const notShipped = targets.map((target) => target.replace(/^\.\//, '')).filter((path) => !shipped(path));
    expect(notShipped).toEqual([]);
  });

  it('declares every package imported from lib as a dependency or peer dependency', () => {
    const undeclared = libFiles.flatMap((file) =>
      packagesOf(readLib(file))
        .filter((name) => !declared.has(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('keeps lib/testing to node builtins, jose and lib files, and keeps it out of the main entry', () => {
    const offending: string[] = [];
    for (const file of libFiles) {
      for (const specifier of specifiersOf(readLib(file))) {
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(join(libDir, file)), specifier);
          const inTesting = target.startsWith(join(libDir, 'testing') + sep);
          if (!target.startsWith(libDir + sep)) offending.push(`${file}: ${specifier} is outside lib/`);
          else if (inTesting && !file.startsWith('testing/'))
            offending.push(`${file}: ${specifier} pulls the emulator into the main entry`);
        } else if (file.startsWith('testing/') && !isBuiltin(specifier) && packageName(specifier) !== 'jose') {
          offending.push(`${file}: ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it('uses no module-system-specific globals in lib (import.meta breaks CommonJS; require/__dirname break ESM)', () => {
    const offending = libFiles.flatMap((file) => {
      const code = readLib(file);
      return [/\bimport\.meta\b/, /(?<![.\w])require\s*\(/, /\b__dirname\b/, /\b__filename\b/]
        .filter((pattern) => pattern.test(code))
        .map((pattern) => `${file}: ${pattern.source}`);
    });
    expect(offending).toEqual([]);
  });

  it('has runtime dependencies that CommonJS can require() without require(esm)', () => {
    // jest on Node 20 cannot require() an ES module, so an ESM-only dependency (jose 6, cookie 2) would
    // break a Nest 11 user's jest suite even though plain node 20.19+ loads it.
    const script = dependencies.map((name) => `require(${JSON.stringify(name)});`).join('');
    const result = spawnSync(process.execPath, ['--no-experimental-require-module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  describe('after a build', () => {
    // Builds only when dist/ is missing or older than lib/, so a normal run stays fast.
    beforeAll(() => {
      if (distIsCurrent()) return;
      try {
        execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
      } catch (error) {
        const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`npm run build failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
      }
    }, 120_000);

    it('has a dist/ build of every lib file', () => {
      expect(distIsCurrent()).toBe(true);
    });

    it('has a file at every exports target, main, module, types and typesVersions target', () => {
      const missing = targets.filter((target) => !existsSync(join(root, target)));
      expect(missing).toEqual([]);
    });

    it('imports no devDependency from the built code (JS and .d.ts)', () => {
      const built = libFiles.flatMap((file) => {
        const base = file.replace(/\.ts$/, '');
        return [`esm/${base}.js`, `cjs/${base}.js`, `esm/${base}.d.ts`, `cjs/${base}.d.ts`];
      });
      const undeclared = built.flatMap((file) =>
        packagesOf(readFileSync(join(root, 'dist', file), 'utf8'))
          .filter((name) => !declared.has(name))
          .map((name) => `dist/${file}: ${name}${name in (manifest.devDependencies ?? {}) ? ' (devDependency)' : ''}`),
      );
      expect(undeclared).toEqual([]);
    });

    it('packs the builds with their source maps and declaration maps, the sources they point to, LICENSE and CHANGELOG', () => {
      // --ignore-scripts: the build above stands in for prepack.
      const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
      const packed = new Set<string>(JSON.parse(output.toString())[0].files.map((file: { path: string }) => file.path));
      const problems: string[] = [];
      for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json'])
        if (!packed.has(file)) problems.push(`${file} not packed`);
      for (const file of libFiles) {
        const base = file.replace(/\.ts$/, '');
        for (const folder of Object.keys(builds))
          for (const built of [`dist/${folder}/${base}.js`, `dist/${folder}/${base}.d.ts`]) {
            if (!packed.has(built)) problems.push(`${built} not packed`);
            if (!packed.has(`${built}.map`)) problems.push(`${built}.map not packed`);
            else {
              const map = JSON.parse(readFileSync(join(root, `${built}.map`), 'utf8')) as { sources: string[] };
              for (const source of map.sources) {
                const target = join(dirname(built), source).split(sep).join('/');
                if (!packed.has(target)) problems.push(`${built}.map points to ${target}, not packed`);
              }
            }
          }
      }
      expect(problems).toEqual([]);
    });

    it('exports every type that the public declarations import, and they type-check with skipLibCheck: false', () => {
      // Internal classes that appear only as constructor parameters of exported classes (Nest injects them), and
      // the types only their own declarations name.
      const internal = new Set([
        'ConfigurableCrossmintAuthModule',
        'CrossmintApi',
        'CrossmintAuthTelemetry',
        'OtelAttributes',
        'TelemetryOutcome',
        'CrossmintAuthCookies',
        'CrossmintJwtVerifier',
        'CrossmintSessionRefresher',
        'JwksKeyStore',
      ]);
      const entries = ['dist/esm/index.d.ts', 'dist/esm/testing/index.d.ts', 'dist/cjs/index.d.ts'];
      const program = ts.createProgram(
        entries.map((entry) => join(root, entry)),
        { module: ts.ModuleKind.NodeNext, strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      );
      const checker = program.getTypeChecker();
      const exported = new Set(
        entries
          .flatMap((entry) =>
            checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(join(root, entry))!)!),
          )
          .map((symbol) => symbol.name),
      );
      const unexported: string[] = [];
      for (const file of program.getSourceFiles().filter((file) => file.fileName.startsWith(join(root, 'dist')))) {
        for (const statement of file.statements) {
          const bindings = ts.isImportDeclaration(statement) ? statement.importClause?.namedBindings : undefined;
          if (!bindings || !ts.isNamedImports(bindings)) continue;
          if (!(statement as ts.ImportDeclaration).moduleSpecifier.getText().startsWith("'.")) continue;
          for (const { name } of bindings.elements)
            if (!exported.has(name.text) && !internal.has(name.text))
              unexported.push(`${file.fileName.slice(root.length)}: ${name.text}`);
        }
      }
      expect(unexported).toEqual([]);
      const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
      expect(errors).toEqual([]);
    }, 60_000);

    it('builds before packing, so a clone without dist/ packs the whole package', () => {
      expect(manifest.scripts.prepack).toBe('npm run build');
    });
  });
});
