import { Inject, Injectable } from '@nestjs/common';
import { CROSSMINT_AUTH_OPTIONS, SOCKET_CLOSE_UNAUTHORIZED } from '../crossmint-auth.constants.js';
import { CrossmintUnsupportedContextError } from '../crossmint-auth.errors.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintAuthUser } from '../interfaces/crossmint-session.interface.js';
import type { RequestLike } from '../interfaces/http-message.interface.js';
import { closeSocket, socketRequest } from '../platform/socket-context.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';
import { closeSocketAtExpiry, socketRefusal } from './socket-lifetime.js';

/** socket.io's middleware signature (`server.use(...)`), spelled without socket.io's types. */
export type SocketIoMiddleware = (socket: object, next: (error?: Error) => void) => void;

/**
 * Authenticates a WebSocket once, at connection, from its handshake (the auth cookies, `Authorization: Bearer`,
 * socket.io's `auth.token`), never refreshing; the user is then what `@CurrentUser()` and the guard see for
 * every message, and the socket is closed when the JWT expires (`closeOnJwtExpiry`).
 */
@Injectable()
export class CrossmintSocketAuth {
  constructor(
    private readonly sessions: CrossmintSessionResolver,
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
  ) {}

  /**
   * For `handleConnection(client, request)`: the user, or undefined after refusing and closing the socket (an
   * `exception` then a close with 4401). The ws adapter's clients do not keep their upgrade request: pass it.
   */
  async authenticate(client: object, request?: RequestLike): Promise<CrossmintAuthUser | undefined> {
    try {
      return await this.admit(client, request);
    } catch (error) {
      closeSocket(client, socketRefusal(error), SOCKET_CLOSE_UNAUTHORIZED);
      return undefined;
    }
  }

  /**
   * For `handleConnection(client, request)` of a ws-adapter gateway that stays open to all: keeps the upgrade
   * request, so that the guard can authenticate the messages of handlers it guards. socket.io needs no such call.
   */
  rememberHandshake(client: object, request: RequestLike): void {
    socketRequest(client, request);
  }

  /**
   * For socket.io's `server.use(...)` (in `afterInit`): refuses the handshake itself, so an unauthenticated socket
   * never connects; the client's `connect_error` carries the refusal as `error.data`.
   */
  socketIoMiddleware(): SocketIoMiddleware {
    return (socket, next) => {
      this.admit(socket).then(
        () => next(),
        (error: unknown) => {
          const refusal = socketRefusal(error);
          next(Object.assign(new Error(refusal.message), { data: refusal }));
        },
      );
    };
  }

  private async admit(client: object, upgrade?: RequestLike): Promise<CrossmintAuthUser> {
    const request = socketRequest(client, upgrade);
    if (!request) throw new CrossmintUnsupportedContextError('ws', 'pass the upgrade request to authenticate()');
    const session = await this.sessions.resolveRequest(request, undefined, 'socket');
    const user = toAuthUser(session);
    request.user = user;
    if (this.options.closeOnJwtExpiry) closeSocketAtExpiry(client, session, true);
    return user;
  }
}
