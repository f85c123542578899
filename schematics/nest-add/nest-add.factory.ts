import type { Rule, SchematicContext, Tree } from '@angular-devkit/schematics';
import { makeRootRoutePublic, overrideInAppE2eTest, registerGlobalGuard, registerModule } from './app-module.edits.js';
import { e2eTest } from './e2e-test.template.js';
import { formatWithAppPrettier } from './format-with-app-prettier.js';
import type { AppFacts, NestAddOptions } from './nest-add.options.js';

const E2E_TEST = 'test/crossmint-auth.e2e-spec.ts';
const APP_E2E_TEST = 'test/app.e2e-spec.ts';
const ENV_LINE = 'CROSSMINT_API_KEY=';

/**
 * `nest add nestjs-crossmint-auth`: registers the module, optionally the global guard, writes an e2e test against
 * the emulator and adds CROSSMINT_API_KEY to .env.example. Each step leaves a file alone when it is done already,
 * so running it twice changes nothing.
 */
export function nestAdd(input: Partial<NestAddOptions>): Rule {
  const options: NestAddOptions = { sourceRoot: 'src', globalGuard: false, routes: false, ...input };
  return async (tree: Tree, context: SchematicContext) => {
    // The TypeScript files this run wrote: only those are formatted, so a second run changes nothing.
    const written = new Set<string>();
    const facts = readAppFacts(tree);
    const appModule = `${options.sourceRoot}/app.module.ts`;
    const edit = (path: string, change: (source: string) => string | undefined) => {
      if (editFile(tree, context, path, change)) written.add(path);
    };
    edit(appModule, (source) => registerModule(source, options, facts));
    if (options.globalGuard) {
      edit(appModule, registerGlobalGuard);
      edit(`${options.sourceRoot}/app.controller.ts`, makeRootRoutePublic);
    }
    if (!tree.exists(E2E_TEST)) {
      tree.create(E2E_TEST, e2eTest(options, facts));
      written.add(E2E_TEST);
    }
    if (tree.exists(APP_E2E_TEST)) edit(APP_E2E_TEST, overrideInAppE2eTest);
    addEnvExample(tree);
    await formatWithAppPrettier(tree, context, written);
  };
}

function readAppFacts(tree: Tree): AppFacts {
  const manifest = JSON.parse(tree.read('package.json')?.toString('utf8') ?? '{}');
  const dependencies = { ...manifest.dependencies, ...manifest.devDependencies };
  return { importSuffix: manifest.type === 'module' ? '.js' : '', usesConfig: '@nestjs/config' in dependencies };
}

/**
 * Applies `change` to a file, and says whether it changed; when the file or the place to edit is missing, says
 * what to do by hand.
 */
function editFile(
  tree: Tree,
  context: SchematicContext,
  path: string,
  change: (source: string) => string | undefined,
): boolean {
  const source = tree.read(path)?.toString('utf8');
  const changed = source === undefined ? undefined : change(source);
  if (changed === undefined) {
    context.logger.warn(`${path}: not the shape nest new generates, left unchanged; see the README's setup.`);
    return false;
  }
  if (changed === source) return false;
  tree.overwrite(path, changed);
  return true;
}

function addEnvExample(tree: Tree) {
  const current = tree.read('.env.example')?.toString('utf8');
  if (current === undefined) return tree.create('.env.example', `${ENV_LINE}\n`);
  if (new RegExp(`^${ENV_LINE}`, 'm').test(current)) return;
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  tree.overwrite('.env.example', `${current}${separator}${ENV_LINE}\n`);
}
