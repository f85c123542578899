/**
 * The few commands `RedisRefreshStore` sends, spelled as ioredis spells them: pass an ioredis `Redis` or
 * `Cluster` instance. Declared here so that the library never imports ioredis (an optional peer).
 */
export interface RedisRefreshStoreClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<'OK' | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  /** ioredis' connection state: while it is `reconnecting`, `close` or `end` the store does not wait on Redis. */
  readonly status?: string;
}
