import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';

// The files of `nest new` (Nest 12: ESM, `.js` imports) that the schematic edits.
const APP_MODULE = `import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`;
const APP_CONTROLLER = `import { Controller, Get } from '@nestjs/common';
import { AppService } from './app.service.js';

@Controller()
export class AppController {
  constructor(private readonly appService: AppService) {}

  @Get()
  getHello(): string {
    return this.appService.getHello();
  }
}
`;

type Files = Record<string, string>;

const APP_E2E_TEST = `import { Test, TestingModule } from '@nestjs/testing';
import { AppModule } from './../src/app.module.js';

beforeEach(async () => {
  const moduleFixture: TestingModule = await Test.createTestingModule({
    imports: [AppModule],
  }).compile();
});
`;

function nestNewApp(manifest: object = { type: 'module', dependencies: { '@nestjs/core': '^12.0.1' } }): Files {
  return {
    'package.json': JSON.stringify(manifest),
    'src/app.module.ts': APP_MODULE,
    'src/app.controller.ts': APP_CONTROLLER,
    'test/app.e2e-spec.ts': APP_E2E_TEST,
  };
}

interface Job {
  files: Files;
  options?: { globalGuard?: boolean; routes?: boolean };
  times?: number;
}

/** The apps the schematic runs on, with its options; all in one child process (see run-schematic.mjs). */
const JOBS = {
  plain: { files: nestNewApp() },
  config: { files: nestNewApp({ dependencies: { '@nestjs/config': '^4.0.0' } }) },
  guard: { files: nestNewApp(), options: { globalGuard: true } },
  routes: { files: nestNewApp(), options: { routes: true } },
  commonJs: { files: nestNewApp({ dependencies: {} }) },
  envExample: { files: { ...nestNewApp(), '.env.example': 'PORT=3000' } },
  twice: { files: nestNewApp(), times: 2 },
  twiceWithAll: { files: nestNewApp(), options: { globalGuard: true, routes: true }, times: 2 },
  unknownModule: { files: { ...nestNewApp(), 'src/app.module.ts': 'export const AppModule = createModule();\n' } },
} satisfies Record<string, Job>;

describe('nest add nestjs-crossmint-auth (the schematic)', () => {
  let results: Record<keyof typeof JOBS, { files: Files; first: Files; warnings: string[] }>;

  beforeAll(() => {
    // SchematicTestRunner on the built CommonJS, as the packed package ships it.
    const out = mkdtempSync(join(tmpdir(), 'crossmint-schematics-'));
    try {
      execFileSync(process.execPath, ['scripts/build-schematics.mjs', out]);
      const jobs = Object.fromEntries(
        Object.entries(JOBS as Record<string, Job>).map(([name, job]) => [
          name,
          { ...job, options: { sourceRoot: 'src', ...job.options } },
        ]),
      );
      const input = JSON.stringify({ collection: join(out, 'collection.json'), schematic: 'nest-add', jobs });
      // Run from the build folder: no Prettier there, so the files are compared as written (`nest add` formats them
      // with the app's own Prettier; scripts/test-nest-add.sh checks that in real apps).
      const output = execFileSync(process.execPath, [resolve('test/support/run-schematic.mjs')], {
        input,
        encoding: 'utf8',
        cwd: out,
      });
      results = JSON.parse(output);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('registers forRootAsync reading CROSSMINT_API_KEY, and nothing else by default', () => {
    const tree = results.plain;
    expect(tree.files['src/app.module.ts']).toBe(`import { Module } from '@nestjs/common';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { CrossmintAuthModule } from 'nestjs-crossmint-auth';

@Module({
  imports: [
    CrossmintAuthModule.forRootAsync({
      isGlobal: true,
      useFactory: () => ({
        // An empty key fails the boot with a message naming apiKey.
        apiKey: process.env.CROSSMINT_API_KEY ?? '',
      }),
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
`);
    expect(tree.files['src/app.controller.ts']).toBe(APP_CONTROLLER);
    expect(tree.files['.env.example']).toBe('CROSSMINT_API_KEY=\n');
  });

  it('reads the key through ConfigService when the app depends on @nestjs/config', () => {
    const tree = results.config;
    const appModule = tree.files['src/app.module.ts'];
    expect(appModule).toContain("import { ConfigModule, ConfigService } from '@nestjs/config';");
    expect(appModule).toContain('inject: [ConfigService],');
    expect(appModule).toContain("apiKey: config.getOrThrow<string>('CROSSMINT_API_KEY'),");
    expect(appModule).not.toContain('process.env');
  });

  it('with globalGuard, provides the guard as APP_GUARD and marks the root route @Public()', () => {
    const tree = results.guard;
    const appModule = tree.files['src/app.module.ts'];
    expect(appModule).toContain("import { CrossmintAuthModule, CrossmintAuthGuard } from 'nestjs-crossmint-auth';");
    expect(appModule).toContain("import { APP_GUARD } from '@nestjs/core';");
    expect(appModule).toContain(
      'providers: [\n    AppService,\n    { provide: APP_GUARD, useClass: CrossmintAuthGuard },\n  ],',
    );
    expect(tree.files['src/app.controller.ts']).toContain('  @Public()\n  @Get()\n  getHello()');
    expect(tree.files['src/app.controller.ts']).toContain("import { Public } from 'nestjs-crossmint-auth';");
    expect(tree.files['test/crossmint-auth.e2e-spec.ts']).toContain("get('/').expect(200)");
  });

  it('with routes, serves the browser SDK routes and tests logout', () => {
    const tree = results.routes;
    const routes = "routes: { refresh: '/api/auth/refresh', logout: '/api/auth/logout' },";
    expect(tree.files['src/app.module.ts']).toContain(`        ${routes}`);
    expect(tree.files['test/crossmint-auth.e2e-spec.ts']).toContain(routes);
    expect(tree.files['test/crossmint-auth.e2e-spec.ts']).toContain(".post('/api/auth/logout')");
  });

  it('writes an e2e test of a guarded route against the emulator, importing AppModule as the app does', () => {
    const esm = results.plain.files['test/crossmint-auth.e2e-spec.ts'];
    expect(esm).toContain("import { AppModule } from '../src/app.module.js';");
    expect(esm).toContain('overrideCrossmintAuth(builder, emulator).compile()');
    expect(esm).toContain('@UseGuards(CrossmintAuthGuard)');
    expect(esm).not.toContain("get('/')");
    const commonJs = results.commonJs.files['test/crossmint-auth.e2e-spec.ts'];
    expect(commonJs).toContain("import { AppModule } from '../src/app.module';");
  });

  it("lets nest new's own e2e test boot the app without CROSSMINT_API_KEY", () => {
    expect(results.plain.files['test/app.e2e-spec.ts']).toBe(`import { Test, TestingModule } from '@nestjs/testing';
import { AppModule } from './../src/app.module.js';
import { overrideCrossmintAuth } from 'nestjs-crossmint-auth/testing';

beforeEach(async () => {
  const moduleFixture: TestingModule = await overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] })).compile();
});
`);
  });

  it('appends CROSSMINT_API_KEY to an existing .env.example', () => {
    expect(results.envExample.files['.env.example']).toBe('PORT=3000\nCROSSMINT_API_KEY=\n');
  });

  it('changes nothing when run a second time', () => {
    for (const { first, files } of [results.twice, results.twiceWithAll]) {
      expect(Object.keys(first).length).toBeGreaterThan(4);
      expect(files).toEqual(first);
    }
  });

  it('leaves an app.module.ts it cannot place the module in unchanged, and says so', () => {
    const result = results.unknownModule;
    expect(result.files['src/app.module.ts']).toBe('export const AppModule = createModule();\n');
    expect(result.warnings).toEqual([expect.stringContaining('src/app.module.ts')]);
  });
});
