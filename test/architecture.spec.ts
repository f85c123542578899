import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering of lib/ (docs/architecture.md): the core never imports a Nest door, the emulator or a platform
 * package, interfaces/ holds types only, and no module imports itself back through a circle.
 */
const LIB = resolve('lib');
const CORE = [
  'api',
  'cookies',
  'interfaces',
  'jwt',
  'options',
  'platform',
  'refresh-store',
  'session',
  'telemetry',
  'utils',
];
const CORE_FILES = [
  'crossmint-auth.constants.ts',
  'crossmint-auth.credentials.ts',
  'crossmint-auth.errors.ts',
  'crossmint-auth.reasons.ts',
];
/** What the core may not import: the doors, the module, the emulator. */
const DOORS = [
  'guards/',
  'interceptors/',
  'decorators/',
  'routes/',
  'testing/',
  'crossmint-auth.module',
  'crossmint-auth.service',
  'health/',
  'index.ts',
];
/** Packages the core may not import: platforms, transports, optional peers, Nest's application layer. */
const PLATFORM_PACKAGES =
  /^(express|fastify|cookie-parser|ioredis|@nestjs\/(core|platform-[\w-]+|graphql|apollo|mercurius|websockets)|@fastify\/[\w-]+)(\/|$)/;

interface Source {
  file: string;
  imports: string[];
}

const sources: Source[] = listTs(LIB).map((path) => ({ file: relative(LIB, path), imports: importsOf(path) }));

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listTs(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier imported or re-exported, type-only ones included; relative ones as paths under lib/. */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
  ].map(([, specifier]) =>
    specifier.startsWith('.') ? relative(LIB, resolve(dirname(path), specifier.replace(/\.js$/, '.ts'))) : specifier,
  );
}

/** Layers from the bottom; a file imports only from its own layer or the ones below. */
const LAYERS: Array<Array<string>> = [
  [
    'interfaces/',
    'utils/',
    'crossmint-auth.constants.ts',
    'crossmint-auth.credentials.ts',
    'crossmint-auth.errors.ts',
    'crossmint-auth.reasons.ts',
  ],
  ['platform/', 'api/', 'telemetry/'],
  ['options/', 'cookies/', 'jwt/', 'refresh-store/'],
  ['session/'],
  [
    'guards/',
    'interceptors/',
    'decorators/',
    'routes/',
    'health/',
    'realtime/',
    'crossmint-auth.service.ts',
    'crossmint-auth.module',
  ],
  ['index.ts', 'testing/', 'swagger/'],
];
const layerOf = (file: string) => LAYERS.findIndex((layer) => layer.some((prefix) => file.startsWith(prefix)));

const isCore = ({ file }: Source) => CORE.some((folder) => file.startsWith(`${folder}/`)) || CORE_FILES.includes(file);

describe('architecture of lib/', () => {
  it('finds the sources it checks', () => {
    expect(sources.filter(isCore).length).toBeGreaterThan(20);
  });

  it('the core (api, cookies, jwt, options, platform, refresh-store, session, interfaces, utils) never imports a door, the module or the emulator', () => {
    const violations = sources
      .filter(isCore)
      .flatMap(({ file, imports }) =>
        imports
          .filter((target) => DOORS.some((door) => target.startsWith(door)))
          .map((target) => `${file} -> ${target}`),
      );
    expect(violations).toEqual([]);
  });

  it('the core never imports a platform package (express, fastify, ioredis, @nestjs/core, transports)', () => {
    const violations = sources
      .filter(isCore)
      .flatMap(({ file, imports }) =>
        imports.filter((target) => PLATFORM_PACKAGES.test(target)).map((target) => `${file} -> ${target}`),
      );
    expect(violations).toEqual([]);
  });

  it('no file imports an optional peer (ioredis, @nestjs/terminus, @opentelemetry/*), type-only imports included', () => {
    // They are loaded at run time when installed (utils/optional-peer.ts), so that an app without them still loads
    // the package, and no shipped declaration names them.
    const optional = /^(ioredis|@nestjs\/terminus|@opentelemetry\/[\w-]+)(\/|$)/;
    const found = sources.flatMap(({ file, imports }) =>
      imports.filter((target) => optional.test(target)).map((target) => `${file} -> ${target}`),
    );
    expect(found).toEqual([]);
  });

  it('places every file in a layer, and no file imports from a layer above its own', () => {
    expect(sources.filter(({ file }) => layerOf(file) === -1).map(({ file }) => file)).toEqual([]);
    const upward = sources.flatMap(({ file, imports }) =>
      imports
        .filter((target) => target.endsWith('.ts') && layerOf(target) > layerOf(file))
        .map((target) => `${file} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('only swagger/ imports @nestjs/swagger (an optional peer), and nothing imports swagger/', () => {
    const violations = sources.flatMap(({ file, imports }) =>
      imports
        .filter((target) =>
          file.startsWith('swagger/') ? false : target.startsWith('@nestjs/swagger') || target.startsWith('swagger/'),
        )
        .map((target) => `${file} -> ${target}`),
    );
    expect(violations).toEqual([]);
    expect(sources.some(({ imports }) => imports.includes('@nestjs/swagger'))).toBe(true);
  });

  it('interfaces/ holds types only', () => {
    const runtime = sources
      .filter(({ file }) => file.startsWith('interfaces/'))
      .filter(({ file }) =>
        /^\s*export\s+(const|let|function|class|enum)\s/m.test(readFileSync(join(LIB, file), 'utf8')),
      )
      .map(({ file }) => file);
    expect(runtime).toEqual([]);
  });

  it('has no import circle, type-only imports included', () => {
    const graph = new Map(
      sources.map(({ file, imports }) => [file, imports.filter((target) => target.endsWith('.ts'))]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });
});
