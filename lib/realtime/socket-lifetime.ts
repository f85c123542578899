import { SESSION_EXPIRED_CODE, SOCKET_CLOSE_UNAUTHORIZED } from '../crossmint-auth.constants.js';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  CrossmintUnsupportedContextError,
} from '../crossmint-auth.errors.js';
import type { CrossmintSocketRefusal } from '../interfaces/crossmint-socket-refusal.interface.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { ResponseLike } from '../interfaces/http-message.interface.js';
import { closeAtExpiry } from '../platform/connection-expiry.js';
import { closeSocket, onSocketClosed } from '../platform/socket-context.js';

const EXPIRED: CrossmintSocketRefusal = { status: 401, code: SESSION_EXPIRED_CODE, message: 'Session expired' };

/** What a socket client is told about a refusal: the session errors' status, code and message, nothing else. */
export function socketRefusal(error: unknown): CrossmintSocketRefusal {
  if (error instanceof CrossmintAuthenticationError || error instanceof CrossmintServiceUnavailableError) {
    return { status: error.getStatus(), code: error.code, message: error.message };
  }
  if (error instanceof CrossmintUnsupportedContextError) {
    return { status: 500, code: error.code, message: error.message };
  }
  throw error;
}

/** Closes the socket when the session's JWT expires (4401, `CROSSMINT_SESSION_EXPIRED`). `notify`: see closeSocket. */
export function closeSocketAtExpiry(client: object, session: CrossmintSession, notify: boolean): void {
  closeAtExpiry(
    client,
    session.claims.exp!,
    () => closeSocket(client, EXPIRED, SOCKET_CLOSE_UNAUTHORIZED, notify),
    (listener) => onSocketClosed(client, listener),
  );
}

/** A stream's Node response (Fastify's reply wraps it as `raw`). */
interface NodeStreamLike {
  end(callback?: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  socket?: { destroy(): unknown } | null;
  /** Present on an HTTP/2 response, whose socket is the whole session's. */
  stream?: object;
}

/**
 * Ends an HTTP stream (`@Sse()`) when the session's JWT expires; the client refreshes over HTTP and reopens it. On
 * HTTP/1.1 the connection is closed too: Nest stops the stream's source when the socket closes, not at the end.
 */
export function endStreamAtExpiry(response: ResponseLike, session: CrossmintSession): void {
  const stream = ((response as { raw?: NodeStreamLike }).raw ?? response) as NodeStreamLike;
  if (typeof stream.end !== 'function' || typeof stream.once !== 'function') return;
  const end = () => {
    const socket = stream.stream ? undefined : stream.socket;
    stream.end(() => socket?.destroy());
  };
  closeAtExpiry(stream, session.claims.exp!, end, (listener) => stream.once('close', listener));
}
