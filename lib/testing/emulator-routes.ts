import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotAllowed, readBody, send, sendJson, TOO_LARGE, USER_PATH_PREFIX } from './emulator-http.js';
import type { EmulatorKeyRing } from './emulator-key-ring.js';
import type { EmulatorState } from './emulator-state.js';
import type { EmulatorRoute } from './emulator.types.js';

/** Crossmint's auth API as the emulator answers it: JWKS, one-time refresh, logout and user lookup. */
export class EmulatorRoutes {
  constructor(
    private readonly state: EmulatorState,
    private readonly keys: EmulatorKeyRing,
    /** A session JWT for `sub`, as a refresh returns. */
    private readonly mintJwt: (sub: string) => string,
  ) {}

  async handle(route: EmulatorRoute, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (route === 'jwks') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET');
      return send(res, 200, this.keys.jwksBody(), 'application/json');
    }
    const expectedMethod = route === 'user' ? 'GET' : 'POST';
    if (method !== expectedMethod) return methodNotAllowed(res, expectedMethod);
    if (!this.state.acceptsApiKey(req.headers['x-api-key'])) {
      return sendJson(res, 401, { message: 'Missing or invalid x-api-key header' });
    }
    if (route === 'user') return this.user(path, res);

    const body = await readBody(req);
    if (body === undefined) return; // client went away
    if (body === TOO_LARGE) return sendJson(res, 413, { message: 'Request body too large' });
    const secret = parseRefreshSecret(body);
    if (secret === undefined) return sendJson(res, 400, { message: 'Expected a JSON body {"refresh": "<secret>"}' });
    if (route === 'logout') return this.logout(secret, res);
    this.refresh(secret, res);
  }

  private logout(secret: string, res: ServerResponse): void {
    this.state.revokeRefreshToken(secret);
    sendJson(res, 200, {});
  }

  private refresh(secret: string, res: ServerResponse): void {
    const userId = this.state.redeemRefreshToken(secret);
    if (userId === undefined) return sendJson(res, 401, { message: 'Invalid refresh token' });
    const user = this.state.user(userId) ?? { id: userId };
    sendJson(res, 200, {
      jwt: this.mintJwt(user.id),
      refresh: this.state.issueRefreshToken(user.id),
      user,
    });
  }

  private user(path: string, res: ServerResponse): void {
    // A raw `/` in the remainder is another path, not an id: only an encoded one is part of the id.
    const raw = path.slice(USER_PATH_PREFIX.length);
    if (raw === '' || raw.includes('/')) return sendJson(res, 404, { message: 'Not found' });
    let userId: string;
    try {
      userId = decodeURIComponent(raw);
    } catch {
      return sendJson(res, 400, { message: 'Malformed user id' });
    }
    const user = this.state.user(userId);
    if (!user) return sendJson(res, 404, { message: 'User not found' });
    sendJson(res, 200, user);
  }
}

function parseRefreshSecret(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const refresh = (parsed as { refresh?: unknown }).refresh;
    return typeof refresh === 'string' && refresh !== '' ? refresh : undefined;
  } catch {
    return undefined;
  }
}
