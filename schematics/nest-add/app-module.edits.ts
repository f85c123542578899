import { addImport, addToModuleArray } from './source-text.js';
import { SDK_ROUTES, type AppFacts, type NestAddOptions } from './nest-add.options.js';

const PACKAGE = 'nestjs-crossmint-auth';

/** Imports `CrossmintAuthModule.forRootAsync(...)` reading CROSSMINT_API_KEY; unchanged when it is already there. */
export function registerModule(source: string, options: NestAddOptions, facts: AppFacts): string | undefined {
  if (source.includes('CrossmintAuthModule')) return source;
  const routes = options.routes
    ? `\n        routes: { refresh: '${SDK_ROUTES.refresh}', logout: '${SDK_ROUTES.logout}' },`
    : '';
  const registration = facts.usesConfig
    ? `CrossmintAuthModule.forRootAsync({
      isGlobal: true,
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        apiKey: config.getOrThrow<string>('CROSSMINT_API_KEY'),${routes}
      }),
    })`
    : `CrossmintAuthModule.forRootAsync({
      isGlobal: true,
      useFactory: () => ({
        // An empty key fails the boot with a message naming apiKey.
        apiKey: process.env.CROSSMINT_API_KEY ?? '',${routes}
      }),
    })`;
  const edited = addToModuleArray(source, 'imports', registration);
  if (edited === undefined) return undefined;
  const withConfig = facts.usesConfig ? addImport(edited, ['ConfigModule', 'ConfigService'], '@nestjs/config') : edited;
  return addImport(withConfig, ['CrossmintAuthModule'], PACKAGE);
}

/** Provides `CrossmintAuthGuard` as `APP_GUARD`; unchanged when it already is. */
export function registerGlobalGuard(source: string): string | undefined {
  if (/useClass:\s*CrossmintAuthGuard/.test(source)) return source;
  const edited = addToModuleArray(source, 'providers', '{ provide: APP_GUARD, useClass: CrossmintAuthGuard }');
  if (edited === undefined) return undefined;
  return addImport(addImport(edited, ['APP_GUARD'], '@nestjs/core'), ['CrossmintAuthGuard'], PACKAGE);
}

/** Marks the first `@Get()` route of the controller (the root route of `nest new`) `@Public()`. */
export function makeRootRoutePublic(source: string): string | undefined {
  if (source.includes('@Public()')) return source;
  const match = /^([^\S\n]*)@Get\(\)/m.exec(source);
  if (!match) return undefined;
  const edited = `${source.slice(0, match.index)}${match[1]}@Public()\n${source.slice(match.index)}`;
  return addImport(edited, ['Public'], PACKAGE);
}

/**
 * Makes the e2e test of `nest new` boot the app without CROSSMINT_API_KEY: its testing module goes through
 * `overrideCrossmintAuth` (credentials that reach nothing; the test does not sign in).
 */
export function overrideInAppE2eTest(source: string): string | undefined {
  if (source.includes('overrideCrossmintAuth')) return source;
  const builder = /Test\.createTestingModule\(\{\s*imports:\s*\[AppModule\],?\s*\}\)/.exec(source);
  if (!builder) return undefined;
  const wrapped = `overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] }))`;
  const edited = source.slice(0, builder.index) + wrapped + source.slice(builder.index + builder[0].length);
  return addImport(edited, ['overrideCrossmintAuth'], `${PACKAGE}/testing`);
}
