import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CROSSMINT_API_PATHS } from '../crossmint-auth.constants.js';
import type { EmulatorTraffic } from './emulator-traffic.js';
import type { EmulatorFault, EmulatorRoute } from './emulator.types.js';

/** Answers a request on a known route once it has been counted and no fault has taken its place. */
export type RouteHandler = (
  route: EmulatorRoute,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<void>;

export const USER_PATH_PREFIX = CROSSMINT_API_PATHS.user('');

const MAX_BODY_BYTES = 64 * 1024;

export const TOO_LARGE = Symbol('too-large');

/** The emulator's HTTP server on 127.0.0.1: routing, call recording and fault injection around a `RouteHandler`. */
export class EmulatorHttpServer {
  // Pending delayed responses, so that `close()` does not wait for them.
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** Listens on a free port; requests are left unanswered until `serve()`. */
  static async listen(): Promise<EmulatorHttpServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new EmulatorHttpServer(server, `http://127.0.0.1:${port}`);
  }

  serve(traffic: EmulatorTraffic, handle: RouteHandler): void {
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(traffic, handle, req, res));
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(traffic: EmulatorTraffic, handle: RouteHandler, req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => res.destroy());
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const route = routeOf(path);
    if (!route) return sendJson(res, 404, { message: 'Not found' });

    traffic.record(route, req.headers);
    const fault = traffic.takeFault(route);
    if (fault?.answerDelayMs) this.holdAnswer(res, fault.answerDelayMs);
    const respond = () => respondOrFault(fault, res, () => handle(route, path, req, res));
    if (!fault?.delayMs) return respond();
    this.later(fault.delayMs, respond);
  }

  /** Headers go out with the body, so holding `end` holds the whole answer. */
  private holdAnswer(res: ServerResponse, ms: number): void {
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      this.later(ms, () => end(...args));
      return res;
    }) as ServerResponse['end'];
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

function routeOf(path: string): EmulatorRoute | undefined {
  if (path === CROSSMINT_API_PATHS.jwks) return 'jwks';
  if (path === CROSSMINT_API_PATHS.refresh) return 'refresh';
  if (path === CROSSMINT_API_PATHS.logout) return 'logout';
  if (path.startsWith(USER_PATH_PREFIX)) return 'user';
  return undefined;
}

/** A fault with a status or body replaces the response; one with only `delayMs` lets the handler answer. */
function respondOrFault(fault: EmulatorFault | undefined, res: ServerResponse, handle: () => Promise<void>): void {
  if (res.destroyed) return;
  try {
    if (fault && (fault.status !== undefined || fault.body !== undefined)) {
      const body = fault.body ?? JSON.stringify({ message: 'injected fault' });
      return send(res, fault.status ?? 200, body, fault.contentType ?? 'application/json', fault.headers);
    }
    handle().catch(() => fail(res));
  } catch {
    fail(res);
  }
}

/** Resolves with the body, `TOO_LARGE` past 64 KB, or `undefined` when the client aborted. */
export function readBody(req: IncomingMessage): Promise<Buffer | typeof TOO_LARGE | undefined> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      req.resume();
      return resolve(TOO_LARGE);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve(TOO_LARGE);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json');
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader('allow', allow);
  sendJson(res, 405, { message: 'Method not allowed' });
}

function fail(res: ServerResponse): void {
  if (res.headersSent) res.destroy();
  else sendJson(res, 500, { message: 'Emulator error' });
}
