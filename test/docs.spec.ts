/**
 * Docs that cannot drift: every ```ts block in README.md and docs/*.md (new docs files are picked up on their
 * own) is type-checked as a module of its own, with `nestjs-crossmint-auth` and `nestjs-crossmint-auth/testing`
 * resolving to lib/. A block whose first line is a file name comment (`// app.module.ts`) can be imported by the
 * other blocks of the same document (`./app.module.js`). A block preceded by `<!-- include: path -->` must equal
 * that file, which the suite runs (a runnable recipe); scripts/test-consumers.sh builds its apps from the same
 * blocks and files.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { docBlocks, docFiles, type DocBlock } from './support/doc-blocks.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `@nestjs/config` is not a dependency of this repository: the few members the docs use, as it declares them. */
const stubs = {
  [join(root, '.docs-check', 'nestjs-config.d.ts')]: `declare module '@nestjs/config' {
  import type { DynamicModule } from '@nestjs/common';
  export class ConfigModule {
    static forRoot(options?: { isGlobal?: boolean }): DynamicModule;
  }
  export class ConfigService {
    get<T = any>(key: string): T | undefined;
    getOrThrow<T = any>(key: string): T;
  }
}
`,
};

/** Where a block lives in the virtual tree: its own folder, beside the named blocks of its document. */
const folderOf = (block: DocBlock) => join(root, '.docs-check', block.doc.replace(/[/.]/g, '_'), `L${block.line}`);
const fileOf = (block: DocBlock) => join(folderOf(block), block.name ?? 'block.ts');

function virtualFiles(blocks: DocBlock[]): { files: Map<string, string>; owners: Map<string, DocBlock> } {
  const files = new Map<string, string>(Object.entries(stubs));
  const owners = new Map<string, DocBlock>();
  for (const block of blocks) {
    for (const sibling of blocks)
      if (sibling.doc === block.doc && sibling.name && sibling.name !== block.name)
        files.set(join(folderOf(block), sibling.name), sibling.code);
    files.set(fileOf(block), block.code);
    owners.set(fileOf(block), block);
  }
  return { files, owners };
}

function typeCheck(blocks: DocBlock[]): string[] {
  const { files, owners } = virtualFiles(blocks);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    paths: {
      'nestjs-crossmint-auth': [join(root, 'lib/index.ts')],
      'nestjs-crossmint-auth/testing': [join(root, 'lib/testing/index.ts')],
    },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, directoryExists, readFile, getSourceFile } = host;
  const folders = new Set([...files.keys()].flatMap((file) => [dirname(file), dirname(dirname(file))]));
  host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
  host.directoryExists = (folder) => folders.has(folder) || directoryExists!.call(host, folder);
  host.readFile = (file) => files.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) =>
    files.has(file)
      ? ts.createSourceFile(file, files.get(file)!, language)
      : getSourceFile.call(host, file, language, ...rest);
  const program = ts.createProgram([...Object.keys(stubs), ...owners.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).flatMap((diagnostic) => {
    const block = diagnostic.file && owners.get(diagnostic.file.fileName);
    if (!diagnostic.file) return [`${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`];
    if (!block) return []; // reported where the sibling block is checked as itself
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    return [`${block.doc}:${block.line + 1 + line}: TS${diagnostic.code} ${message}`];
  });
}

describe('Docs', () => {
  const nestMajor = JSON.parse(
    readFileSync(join(root, 'node_modules/@nestjs/core/package.json'), 'utf8'),
  ).version.split('.')[0];
  // Under scripts/test-nest11.sh, @fastify/cookie keeps its types for Nest 12's fastify beside Nest 11's own copy,
  // so a block that uses fastify or a plugin sees two FastifyInstance types: those blocks are checked on Nest 12.
  const blocks = docFiles(root)
    .flatMap((doc) => docBlocks(root, doc))
    .filter((block) => nestMajor !== '11' || !/from '(fastify|@fastify\/[^']+)'/.test(block.code));
  // A block that cannot compile, checked in the same program (one type-check is about 20 s on a busy machine).
  const broken: DocBlock = { doc: 'docs/not-a-doc.md', line: 41, code: 'const a = 1;\nconst b: string = secret;\n' };
  let report: string[] = [];
  beforeAll(() => {
    report = typeCheck([...blocks, broken]);
  }, 120_000);

  it('finds the ts blocks of README.md and every docs/*.md', () => {
    expect(blocks.filter((block) => block.doc === 'README.md').length).toBeGreaterThan(5);
    expect(blocks.some((block) => block.doc === 'docs/platforms.md')).toBe(true);
  });

  it('type-checks every ts block as a module of its own', () => {
    expect(report.filter((line) => !line.startsWith(`${broken.doc}:`))).toEqual([]);
  });

  it('reports a block that does not compile at its file and line', () => {
    expect(report.filter((line) => line.startsWith(`${broken.doc}:`))).toEqual([
      "docs/not-a-doc.md:43: TS2304 Cannot find name 'secret'.",
    ]);
  });

  it('keeps every included block equal to the file the suite runs', () => {
    expect(blocks.filter(({ include }) => include?.startsWith('test/readme/')).length).toBeGreaterThanOrEqual(2);
    const drifted = blocks
      .filter(
        ({ include, code }) =>
          include && (!existsSync(join(root, include)) || readFileSync(join(root, include), 'utf8') !== code),
      )
      .map((block) => `${block.doc}:${block.line}: differs from ${block.include}`);
    expect(drifted).toEqual([]);
  });

  it('links README to repository files by absolute URL, so the links work on the npm page', () => {
    const relative = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^(https?:|#)/.test(target));
    expect(relative).toEqual([]);
  });

  it('has a language on every code fence, so no ts example escapes the check', () => {
    const bare = docFiles(root).flatMap((doc) => {
      let inBlock = false;
      return readFileSync(join(root, doc), 'utf8')
        .split('\n')
        .flatMap((line, index) => {
          if (!line.startsWith('```')) return [];
          const opening = !inBlock;
          inBlock = !inBlock;
          return opening && line === '```' ? [`${doc}:${index + 1}`] : [];
        });
    });
    expect(bare).toEqual([]);
  });
});
