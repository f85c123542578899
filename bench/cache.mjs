// npm run bench:cache: the verified-token cache in process. Bytes per cached session (the verifier as shipped,
// real emulator JWTs), and the caches it has used on the same keys and values: the hand-written LRU of round 5
// (bench/hand-written-lru.mjs), the `lru-cache` package (round 6) and lib/utils/digest-table.ts (since round 7): time
// per hit and per insert, bytes per entry. See BENCHMARKS.md.
//
// Environment: CACHE_SESSIONS=100000 (sessions for the memory figure and the round robin)  CACHE_ROUNDS=3
//   CACHE_MB (verifiedTokenCacheMb; the package default when unset)
//   CACHE_MILLION=1: also fill the package's DigestTable with 1,000,000 synthetic sessions as the verifier does (a
//   SHA-256 of a distinct 396-character token, its own parsed claims, the same weight) within 400 MB: bytes per
//   session, and a digest + lookup per hit with them all taking turns
import 'reflect-metadata';
import { hash } from 'node:crypto';
import { ensureBuild, envNumber, fmt, machine, median } from './support.mjs';

ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');
const { CrossmintAuthModule, CrossmintAuthService } = await import('../dist/esm/index.js');
const { CrossmintJwtVerifier } = await import('../dist/esm/jwt/crossmint-jwt-verifier.js');
const { LRUCache } = await import('lru-cache');
const { HandWrittenLru } = await import('./hand-written-lru.mjs');
const { DigestTable } = await import('../dist/esm/utils/digest-table.js');
const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');

const sessions = Math.max(1000, envNumber('CACHE_SESSIONS', 100_000));
const rounds = Math.max(1, envNumber('CACHE_ROUNDS', 3));
const log = (...args) => console.error(...args);

const gc = async () => {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The heap and the ArrayBuffers outside it (DigestTable's digests).
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

const emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 3600 });
log(`minting ${sessions} JWTs...`);
const tokens = [];
for (let i = 0; i < sessions; i++) tokens.push(await emulator.mintJwt({ ttlSec: 3600 }));

// ---- bytes per session, the verifier as shipped ----
class VerifyModule {}
Reflect.decorate(
  [
    Module({
      imports: [
        CrossmintAuthModule.forRoot({
          ...emulator.moduleOptions(),
          ...(process.env.CACHE_MB ? { verifiedTokenCacheMb: envNumber('CACHE_MB', 64) } : {}),
        }),
      ],
    }),
  ],
  VerifyModule,
);
const context = await NestFactory.createApplicationContext(VerifyModule, { logger: ['error', 'warn'] });
const service = context.get(CrossmintAuthService);
await service.verifyCrossmintJwt(tokens[0]);
await service.verifyCrossmintJwt(tokens[0]); // the first fills no entry: it fetched the keys
const before = await gc();
for (const token of tokens) await service.verifyCrossmintJwt(token);
const after = await gc();
const perSession = (after - before) / sessions;

// The hit path by the number of sessions taking turns: fresh strings, as each request brings its own.
const verifier = context.get(CrossmintJwtVerifier);
const hitNs = {};
for (const k of [1, 1_000, 10_000, 100_000, 1_000_000].filter((k) => k <= sessions)) {
  const probes = tokens.slice(0, k).map((token) => Buffer.from(token).toString());
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    runs.push(
      time(Math.max(1_000_000, k), (i) => {
        if (verifier.cached(probes[i % k]) === undefined) throw new Error('a verified session missed the cache');
      }),
    );
  }
  hitNs[k] = median(runs);
  log(`cached() with ${k} sessions taking turns: ${hitNs[k].toFixed(0)} ns`);
}
await context.close();
await emulator.stop();

// ---- the two LRUs on the same keys and values ----
const keys = tokens.map((token) => hash('sha256', token, 'binary'));
const values = tokens.map((token) =>
  Object.freeze(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())),
);
const expiresAt = Date.now() + 3_600_000;
const weight = 500;

const makers = {
  'hand-written (until round 5)': () => {
    const cache = new HandWrittenLru(sessions);
    return { set: (k, v) => cache.set(k, v, expiresAt), get: (k) => cache.get(k) };
  },
  'lru-cache 11 (bounded by size, with a TTL: as lib/ used it in round 5)': () => {
    const cache = new LRUCache({ maxSize: sessions * weight, sizeCalculation: () => weight, ttl: 3_600_000 });
    return { set: (k, v) => cache.set(k, v), get: (k) => cache.get(k) };
  },
  'lru-cache 11 (bounded by size; expiry read from the claims: as lib/ used it in round 6)': () => {
    const cache = new LRUCache({ maxSize: sessions * weight, sizeCalculation: () => weight, ttlResolution: 0 });
    return {
      set: (k, v) => cache.set(k, v),
      get: (k) => {
        const value = cache.get(k);
        return value !== undefined && value.exp * 1000 > Date.now() ? value : undefined;
      },
    };
  },
  'DigestTable (digests in a typed array, CLOCK eviction: as lib/ uses it)': () => {
    const table = new DigestTable(sessions * weight, (value) => value.exp * 1000);
    return { set: (k, v) => table.set(k, v, weight), get: (k) => table.get(k) };
  },
};

/** ns per call of `fn(i)` over `count` calls. */
function time(count, fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / count;
}

const results = Object.fromEntries(
  Object.keys(makers).map((name) => [name, { bytes: [], insert: [], hitOne: [], hitAll: [], evict: [] }]),
);
for (let round = 0; round < rounds; round++) {
  for (const [name, make] of Object.entries(makers)) {
    const r = results[name];
    const base = await gc();
    const cache = make();
    r.insert.push(time(sessions, (i) => cache.set(keys[i], values[i])));
    r.bytes.push(((await gc()) - base) / sessions);
    // Fresh key strings, as a request brings: the Map hashes each again.
    const probes = keys.map((key) => Buffer.from(key).toString());
    r.hitOne.push(time(1_000_000, () => cache.get(probes[7])));
    r.hitAll.push(time(1_000_000, (i) => cache.get(probes[i % sessions])));
    // Full: every new key evicts.
    r.evict.push(time(sessions, (i) => cache.set(`${keys[i]}!`, values[i])));
  }
}

const million = process.env.CACHE_MILLION === '1' ? await benchMillion() : undefined;

async function benchMillion() {
  const { VERIFIED_TOKEN_ENTRY_BYTES } = await import('../dist/esm/crossmint-auth.constants.js');
  const count = 1_000_000;
  const [header, payload, signature] = tokens[0].split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  // Distinct tokens of the same shape: the signature's first 8 characters carry the index. Flat copies: hashing a
  // concatenated string would flatten it in place, after the heap's baseline.
  const synthetic = Array.from({ length: count }, (_, i) =>
    Buffer.from(`${header}.${payload}.${i.toString(36).padStart(8, '0')}${signature.slice(8)}`).toString(),
  );
  const base = await gc();
  const cache = new DigestTable(400 * 1024 * 1024, (value) => value.exp * 1000);
  for (let i = 0; i < count; i++) {
    const value = Object.freeze(JSON.parse(JSON.stringify({ ...claims, sub: `${claims.sub}-${i}` })));
    cache.set(hash('sha256', synthetic[i], 'binary'), value, VERIFIED_TOKEN_ENTRY_BYTES + payload.length);
  }
  const bytes = ((await gc()) - base) / count;
  const held = cache.size;
  const hit = median(
    Array.from({ length: rounds }, () =>
      time(count, (i) => {
        if (cache.get(hash('sha256', Buffer.from(synthetic[i]).toString(), 'binary')) === undefined)
          throw new Error('miss');
      }),
    ),
  );
  log(
    `1,000,000 synthetic sessions: ${bytes.toFixed(0)} bytes each, ${held} held, ${hit.toFixed(0)} ns per digest + hit`,
  );
  return { bytes, held, hit };
}

const info = machine();
const lines = [
  `Machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}; ${info.date}`,
  `Verifier as shipped: ${fmt(perSession)} bytes of heap per cached session (${sessions} emulator JWTs of ${tokens[0].length} characters, payload segment ${tokens[0].split('.')[1].length})`,
  `verifier.cached() per hit, K sessions taking turns: ${Object.entries(hitNs)
    .map(([k, ns]) => `K=${fmt(Number(k))} ${fmt(ns)} ns`)
    .join(', ')}`,
  ...(million
    ? [
        `1,000,000 synthetic sessions in the package's DigestTable within 400 MB: ${fmt(million.bytes)} bytes of heap each, ${fmt(million.held)} held; ` +
          `${fmt(million.hit)} ns per digest + hit (a fresh 396-character string each, all taking turns)`,
      ]
    : []),
  '',
  `Caches on ${sessions} SHA-256 keys and claims objects (median of ${rounds} rounds; the values are shared, so bytes are the cache's own):`,
  '',
  '| cache | bytes / entry | insert ns | hit ns, one key | hit ns, round robin over all | insert into a full cache ns |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...Object.entries(results).map(
    ([name, r]) =>
      `| ${name} | ${fmt(median(r.bytes))} | ${fmt(median(r.insert))} | ${fmt(median(r.hitOne))} | ${fmt(median(r.hitAll))} | ${fmt(median(r.evict))} |`,
  ),
];
console.log(lines.join('\n'));
