/** The options of `nest add nestjs-crossmint-auth` (see schema.json). */
export interface NestAddOptions {
  sourceRoot: string;
  globalGuard: boolean;
  routes: boolean;
}

/** What the edits need to know about the app. */
export interface AppFacts {
  /** `.js` when the app is ESM (`"type": "module"`, as `nest new` makes on Nest 12), else ``. */
  importSuffix: string;
  usesConfig: boolean;
}

/** The paths the browser SDK is told to use, written in the app's options and its e2e test. */
export const SDK_ROUTES = { refresh: '/api/auth/refresh', logout: '/api/auth/logout' };
