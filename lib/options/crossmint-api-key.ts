import { CrossmintAuthOptionsError } from '../crossmint-auth.errors.js';
import { decodeBase58 } from '../utils/base58.js';

export type CrossmintEnvironment = 'production' | 'staging' | 'development';

export interface CrossmintApiKeyInfo {
  environment: CrossmintEnvironment;
  /** The project id from the key's payload, when it decodes. */
  projectId?: string;
}

const ENVIRONMENTS: readonly string[] = ['production', 'staging', 'development'];

/**
 * Checks the shape of a Crossmint server key (`sk_<environment>_<base58 payload>`) and reads what it can.
 * Crossmint checks the signature inside the key on every call, so it is not checked here.
 * Error messages never contain the key.
 */
export function parseCrossmintApiKey(apiKey: string): CrossmintApiKeyInfo {
  const [type, environment, payload, ...rest] = apiKey.split('_');
  if (type === 'ck') {
    throw keyError('`apiKey` is a client key (ck_…); the server needs a server key (sk_…) from the Crossmint console.');
  }
  if (type !== 'sk' || environment === undefined || payload === undefined || rest.length > 0 || payload === '') {
    throw keyError(
      '`apiKey` is not a Crossmint server key; expected the form sk_<environment>_<key> from the Crossmint console.',
    );
  }
  if (environment === 'live' || environment === 'test') {
    throw keyError(
      '`apiKey` uses the retired sk_live/sk_test format; create a new server key (sk_production_… or sk_staging_…) in the Crossmint console.',
    );
  }
  if (!ENVIRONMENTS.includes(environment)) {
    throw keyError(`\`apiKey\` names an unknown environment; expected one of ${ENVIRONMENTS.join(', ')}.`);
  }
  return { environment: environment as CrossmintEnvironment, projectId: readProjectId(payload) };
}

function keyError(message: string): CrossmintAuthOptionsError {
  return new CrossmintAuthOptionsError(`CrossmintAuthModule: ${message}`, 'apiKey');
}

function readProjectId(payload: string): string | undefined {
  const bytes = decodeBase58(payload);
  if (!bytes) return undefined;
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const match = /^([A-Za-z0-9_-]+)\.[^:]*:.+$/s.exec(decoded);
  return match?.[1];
}
