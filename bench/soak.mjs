// npm run bench:soak: a flood of distinct, random, invalid JWTs with random `kid`s (half as cookie, half as
// Bearer) against the guarded route; the app's memory after a full GC must stay within 50 MB of where it started.
//
// Environment: SOAK_REQUESTS=1000000  SOAK_SAMPLES=10 (memory samples)  SOAK_PLATFORMS=express,fastify
//   SOAK_CONNECTIONS=10  SOAK_LIMIT_MB=50
import { randomBytes } from 'node:crypto';
import { ensureBuild, envList, envNumber, load, machine, mb, startApp } from './support.mjs';

ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');

const config = {
  requests: envNumber('SOAK_REQUESTS', 1_000_000),
  samples: Math.max(1, envNumber('SOAK_SAMPLES', 10)),
  platforms: envList('SOAK_PLATFORMS', ['express', 'fastify']),
  connections: Math.max(1, envNumber('SOAK_CONNECTIONS', 10)),
  limitMb: envNumber('SOAK_LIMIT_MB', 50),
  warmup: 20_000,
};
const log = (...args) => console.error(...args);

const emulator = await CrossmintAuthEmulator.start();

// Random bytes drawn in big blocks: cheap enough that the load generator keeps up with the app.
let pool = Buffer.alloc(0);
let offset = 0;
function random(bytes) {
  if (offset + bytes > pool.length) {
    pool = randomBytes(1 << 20);
    offset = 0;
  }
  offset += bytes;
  return pool.subarray(offset - bytes, offset).toString('base64url');
}
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A JWT-shaped token no one signed: known algorithm, random kid, plausible claims, random signature. */
function invalidToken() {
  const header = b64({ alg: 'ES256', kid: random(12), typ: 'JWT' });
  const claims = b64({
    sub: `user-${random(6)}`,
    aud: emulator.projectId,
    iat: now(),
    exp: now() + 60,
    jti: random(9),
  });
  return `${header}.${claims}.${random(64)}`;
}

let sent = 0;
const floodHeaders = () =>
  sent++ % 2 === 0 ? { cookie: `crossmint-jwt=${invalidToken()}` } : { authorization: `Bearer ${invalidToken()}` };

const results = [];
for (const platform of config.platforms) results.push(await soak(platform));
await emulator.stop();

const info = machine();
const lines = [
  `Machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}; ${info.date}`,
  `Soak: ${config.requests.toLocaleString('en-US')} requests per platform with distinct random invalid JWTs and random kids, ${config.connections} connections`,
  '',
  '| platform | requests | req/s | 401s | JWKS calls | RSS start MB | RSS max MB | RSS end MB | heap start MB | heap max MB | heap end MB | RSS growth MB |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of results) {
  const f = (value) => value.toFixed(1);
  lines.push(
    `| ${r.platform} | ${r.requests.toLocaleString('en-US')} | ${r.rps.toFixed(0)} | ${r.unauthorized.toLocaleString('en-US')} | ${r.jwksCalls} | ` +
      `${f(r.start.rss)} | ${f(r.maxRss)} | ${f(r.end.rss)} | ${f(r.start.heapUsed)} | ${f(r.maxHeap)} | ${f(r.end.heapUsed)} | ${f(r.maxRss - r.start.rss)} |`,
  );
}
lines.push('', 'Samples (RSS / heap used after GC, MB):');
for (const r of results)
  lines.push(
    `- ${r.platform}: ` +
      r.samples
        .map((s) => `${s.after.toLocaleString('en-US')}: ${s.rss.toFixed(1)} / ${s.heapUsed.toFixed(1)}`)
        .join('; '),
  );
const failed = results.filter((r) => r.maxRss - r.start.rss > config.limitMb || r.unauthorized !== r.requests);
lines.push(
  '',
  `Target: RSS after GC within ${config.limitMb} MB of the start, every request answered 401: ${failed.length ? 'MISSED' : 'MET'}`,
);
console.log(lines.join('\n'));
process.exitCode = failed.length ? 1 : 0;

async function soak(platform) {
  log(`[${platform}] starting the app`);
  const app = await startApp(platform, emulator.moduleOptions());
  try {
    // Warm-up: JIT, socket and parser pools, the first JWKS fetch; then the baseline.
    await load({
      url: `${app.url}/bench/guarded`,
      headers: floodHeaders,
      amount: config.warmup,
      connections: config.connections,
      recordLatencies: false,
    });
    const start = toMb(await app.memory());
    log(`[${platform}] baseline RSS ${start.rss.toFixed(1)} MB, heap ${start.heapUsed.toFixed(1)} MB`);
    emulator.resetCalls();

    const samples = [];
    const chunk = Math.ceil(config.requests / config.samples);
    let done = 0;
    let unauthorized = 0;
    let seconds = 0;
    while (done < config.requests) {
      const amount = Math.max(config.connections, Math.min(chunk, config.requests - done));
      const result = await load({
        url: `${app.url}/bench/guarded`,
        headers: floodHeaders,
        amount,
        connections: config.connections,
        recordLatencies: false,
      });
      done += result.requests;
      unauthorized += result.statusCodes['401'] ?? 0;
      seconds += result.requests / result.rps;
      const memory = toMb(await app.memory());
      samples.push({ after: done, ...memory });
      log(
        `[${platform}] ${done.toLocaleString('en-US')} requests, ${result.rps.toFixed(0)}/s: RSS ${memory.rss.toFixed(1)} MB, heap ${memory.heapUsed.toFixed(1)} MB, JWKS calls ${emulator.calls('jwks')}`,
      );
    }
    return {
      platform,
      requests: done,
      rps: done / seconds,
      unauthorized,
      jwksCalls: emulator.calls('jwks'),
      start,
      end: samples[samples.length - 1],
      maxRss: Math.max(start.rss, ...samples.map((s) => s.rss)),
      maxHeap: Math.max(start.heapUsed, ...samples.map((s) => s.heapUsed)),
      samples,
    };
  } finally {
    await app.stop();
  }
}

function toMb({ rss, heapUsed, heapTotal, external }) {
  return { rss: mb(rss), heapUsed: mb(heapUsed), heapTotal: mb(heapTotal), external: mb(external) };
}
