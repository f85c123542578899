import { UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { CrossmintAuthGuard, CrossmintSocketAuth, CurrentUser, type CrossmintAuthUser } from '../../lib/index.js';
import { cookieHeader } from './http.js';

export type SocketAdapterName = 'socket.io' | 'ws';

/** The server side of the sockets the gateways saw, newest last, for checks of what a socket left behind. */
export const serverClients: object[] = [];

/** `app.useWebSocketAdapter` for the adapter under test (Nest picks socket.io by default). */
export function useAdapter(adapter: SocketAdapterName): (app: INestApplication) => void {
  return (app) => {
    if (adapter === 'ws') app.useWebSocketAdapter(new WsAdapter(app));
  };
}

/**
 * Two gateways per adapter: `open` lets every socket in and guards `whoami` with the guard alone; `strict` refuses
 * the handshake itself (socket.io middleware, or `authenticate` in ws's `handleConnection`).
 */
export function gatewaysFor(adapter: SocketAdapterName): Type[] {
  const where = (name: string) => (adapter === 'ws' ? { path: `/${name}` } : { namespace: name });

  @WebSocketGateway(where('open'))
  class OpenGateway implements OnGatewayConnection {
    constructor(private readonly auth: CrossmintSocketAuth) {}

    handleConnection(client: object, request?: IncomingMessage) {
      serverClients.push(client);
      if (adapter === 'ws') this.auth.rememberHandshake(client, request!);
    }

    @SubscribeMessage('ping')
    ping() {
      return { event: 'pong', data: 'ok' };
    }

    @UseGuards(CrossmintAuthGuard)
    @SubscribeMessage('whoami')
    whoami(@CurrentUser() user: CrossmintAuthUser, @CurrentUser('userId') userId: string) {
      return { event: 'whoami', data: { userId, sub: user.claims.sub } };
    }
  }

  @WebSocketGateway(where('strict'))
  class StrictGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
    constructor(private readonly auth: CrossmintSocketAuth) {}

    afterInit(server: { use?: (middleware: unknown) => unknown }) {
      if (adapter === 'socket.io') server.use!(this.auth.socketIoMiddleware());
    }

    async handleConnection(client: object, request?: IncomingMessage) {
      serverClients.push(client);
      if (adapter === 'ws') await this.auth.authenticate(client, request);
    }

    handleDisconnect() {}

    @UseGuards(CrossmintAuthGuard)
    @SubscribeMessage('whoami')
    whoami(@CurrentUser('userId') userId: string) {
      return { event: 'whoami', data: { userId } };
    }
  }

  return [OpenGateway, StrictGateway];
}

export interface SocketCredentials {
  cookies?: Record<string, string>;
  /** Sent as `Authorization: Bearer …` on the upgrade request. */
  bearer?: string;
  /** socket.io's `auth: { token }`. */
  token?: string;
}

export interface SocketMessage {
  event: string;
  data: any;
}

/** A socket.io or ws client with one API: what it received, in order, and how it ended. */
export interface RealtimeClient {
  /** Resolves once connected; rejects with the refusal when socket.io refuses the handshake (`connect_error`). */
  opened: Promise<void>;
  /** The next message of one of these events (already received or to come). */
  next(...events: string[]): Promise<SocketMessage>;
  emit(event: string, data?: unknown): void;
  /** How the server ended it: ws's close code and reason, or socket.io's disconnect reason. */
  closed: Promise<{ code?: number; reason: string }>;
  close(): void;
}

export function connect(
  adapter: SocketAdapterName,
  baseUrl: string,
  gateway: string,
  credentials: SocketCredentials = {},
): RealtimeClient {
  const headers: Record<string, string> = {};
  if (credentials.cookies) headers.cookie = cookieHeader(credentials.cookies);
  if (credentials.bearer) headers.authorization = `Bearer ${credentials.bearer}`;
  const inbox = new Inbox();
  if (adapter === 'ws') {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/${gateway}`, { headers });
    ws.on('message', (raw) => inbox.push(JSON.parse(String(raw))));
    return {
      opened: new Promise((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject))),
      next: (...events) => inbox.next(events),
      emit: (event, data) => ws.send(JSON.stringify({ event, data })),
      closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
      close: () => ws.close(),
    };
  }
  const socket = io(`${baseUrl}/${gateway}`, {
    transports: ['websocket'],
    extraHeaders: headers,
    auth: credentials.token ? { token: credentials.token } : {},
    reconnection: false,
    forceNew: true,
  });
  socket.onAny((event: string, data: unknown) => inbox.push({ event, data }));
  return {
    opened: new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error: Error & { data?: unknown }) => reject(error));
    }),
    next: (...events) => inbox.next(events),
    emit: (event, data) => socket.emit(event, data),
    closed: new Promise((resolve) => socket.once('disconnect', (reason: string) => resolve({ reason }))),
    close: () => socket.disconnect(),
  };
}

class Inbox {
  private readonly messages: SocketMessage[] = [];
  private readonly waiting: Array<{ events: string[]; resolve: (message: SocketMessage) => void }> = [];

  push(message: SocketMessage): void {
    const i = this.waiting.findIndex((waiter) => waiter.events.includes(message.event));
    if (i === -1) this.messages.push(message);
    else this.waiting.splice(i, 1)[0].resolve(message);
  }

  next(events: string[]): Promise<SocketMessage> {
    const i = this.messages.findIndex((message) => events.includes(message.event));
    if (i !== -1) return Promise.resolve(this.messages.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiting.push({ events, resolve }));
  }
}
