// npm run bench:scale: the guard's cost as the number of distinct active sessions K grows, with package defaults,
// side by side with the same route unguarded, on Express and Fastify; then a cold burst of fresh sessions against
// bare jose, with a health route probed meanwhile. See BENCHMARKS.md ("Scale").
//
// Environment (defaults in brackets; about 8 minutes on 2 cores):
//   SCALE_KS [1,1000,10000,100000]: the K values; 1M on request: SCALE_KS=1,1000000 (add SCALE_CACHE_MB to size the cache)
//   SCALE_CACHE_MB: verifiedTokenCacheMb for the app (package default when unset)
//   SCALE_PLATFORMS [express,fastify]  SCALE_ROUNDS [8]  SCALE_DURATION [0.5 s]  SCALE_CONNECTIONS [10]
//   SCALE_RATE: requests/s, open loop, for the measured rounds (each route then meets the same traffic; see pacedLoad
//   in bench/support.mjs); unset: as fast as the route answers
//   SCALE_BURST [10000] fresh sessions per burst  SCALE_BURST_CONNECTIONS [100]  SCALE_PROBE_MS [10]  SCALE_WARMUP [5 s]
import 'reflect-metadata';
import { ensureBuild, envList, envNumber, fmt, machine, mb, measureApp, median, startApp } from './support.mjs';

ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');

const config = {
  ks: envList('SCALE_KS', ['1', '1000', '10000', '100000']).map(Number),
  cacheMb: process.env.SCALE_CACHE_MB ? envNumber('SCALE_CACHE_MB', 64) : undefined,
  platforms: envList('SCALE_PLATFORMS', ['express', 'fastify']),
  rounds: Math.max(1, envNumber('SCALE_ROUNDS', 8)),
  duration: envNumber('SCALE_DURATION', 0.5),
  connections: Math.max(1, envNumber('SCALE_CONNECTIONS', 10)),
  burst: Math.max(100, envNumber('SCALE_BURST', 10_000)),
  burstConnections: Math.max(1, envNumber('SCALE_BURST_CONNECTIONS', 100)),
  probeMs: Math.max(1, envNumber('SCALE_PROBE_MS', 10)),
  warmup: envNumber('SCALE_WARMUP', 5),
  rate: envNumber('SCALE_RATE', 0),
};
const log = (...args) => console.error(...args);
const startedAt = Date.now();

const emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 3600 });
const moduleOptions = {
  ...emulator.moduleOptions(),
  ...(config.cacheMb === undefined ? {} : { verifiedTokenCacheMb: config.cacheMb }),
};
process.env.BENCH_JWKS = JSON.stringify(emulator.jwks());
process.env.BENCH_PROJECT_ID = emulator.projectId;

const maxK = Math.max(...config.ks);
log(`minting ${maxK} sessions and ${4 * config.burst} burst sessions...`);
const mint = async (count) => {
  const cookies = [];
  for (let i = 0; i < count; i++) cookies.push(`crossmint-jwt=${await emulator.mintJwt({ ttlSec: 3600 })}`);
  return cookies;
};
const sessions = await mint(maxK);
const burstBatches = [];
for (let i = 0; i < 4; i++) burstBatches.push(await mint(config.burst));
log(`minted in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

const results = {};
for (const platform of config.platforms) results[platform] = await benchPlatform(platform);
await emulator.stop();
console.log(report(machine(), results));
log(`bench:scale finished in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

async function benchPlatform(platform) {
  // A new app per platform, its cache filled K by K: each K's sessions are the first K of the same list.
  const app = await startApp(platform, moduleOptions);
  try {
    // JIT warm-up on one session, both routes.
    for (const id of ['open', 'me', 'open', 'me']) {
      await measure(app, `/bench/${id}`, () => ({ cookie: sessions[0] }), { duration: config.warmup });
    }
    const rows = [];
    for (const k of config.ks) {
      let next = 0;
      const headers = () => ({ cookie: sessions[next++ % k] });
      // First pass: every session verified once, so the rounds below measure the steady state.
      await measure(app, '/bench/me', headers, { amount: k, connections: Math.min(k, config.connections) });
      const cases = { open: [], me: [] };
      for (let round = 0; round < config.rounds; round++) {
        const order = round % 2 ? ['me', 'open'] : ['open', 'me'];
        for (const id of order) {
          cases[id].push(await measure(app, `/bench/${id}`, headers, { duration: config.duration, rate: config.rate }));
        }
      }
      const memory = await app.memory();
      const row = { k, memory, ...summarize(cases) };
      rows.push(row);
      log(
        `[${platform}] K=${k}: CPU µs/req ${row.open.cpuUsPerRequest.toFixed(1)} → ${row.me.cpuUsPerRequest.toFixed(1)} ` +
          `(×${row.cpuRatio.toFixed(3)}), req/s ratio ${row.rpsRatio.toFixed(3)}, RSS ${mb(memory.rss).toFixed(0)} MB`,
      );
    }
    const bursts = await coldBursts(app, platform);
    return { rows, bursts, pinned: app.pinned };
  } finally {
    await app.stop();
  }
}

/** Per case: medians of the runs; ratios: the median of each round's guarded ÷ unguarded. */
function summarize(cases) {
  const side = (runs) => ({
    rps: median(runs.map((run) => run.rps)),
    p99: median(runs.map((run) => run.p99)),
    cpuUsPerRequest: median(runs.map((run) => run.cpuUsPerRequest)),
  });
  const ratios = (field) => cases.me.map((run, i) => run[field] / cases.open[i][field]);
  return {
    open: side(cases.open),
    me: side(cases.me),
    cpuRatio: median(ratios('cpuUsPerRequest')),
    cpuRatios: ratios('cpuUsPerRequest'),
    rpsRatio: median(ratios('rps')),
  };
}

function measure(app, path, headers, { duration, amount, rate, connections = config.connections }) {
  return measureApp(app, path, headers, { duration, amount, rate, connections });
}

/**
 * 10,000 fresh sessions at once (100 connections), to the guarded route and to a route checking the same cookie
 * with bare jose, two batches each, the order swapped; an unguarded route is probed every 10 ms meanwhile.
 */
async function coldBursts(app, platform) {
  const runs = { me: [], jose: [] };
  const batches = [...burstBatches];
  for (const order of [
    ['jose', 'me'],
    ['me', 'jose'],
  ]) {
    for (const id of order) {
      const batch = batches.pop();
      let next = 0;
      const probes = [];
      let probing = true;
      const prober = (async () => {
        while (probing) {
          const at = performance.now();
          const res = await fetch(`${app.url}/bench/open`);
          await res.arrayBuffer();
          probes.push(performance.now() - at);
          await new Promise((resolve) => setTimeout(resolve, config.probeMs));
        }
      })();
      const run = await measure(app, `/bench/${id}`, () => ({ cookie: batch[next++] }), {
        amount: batch.length,
        connections: config.burstConnections,
      });
      probing = false;
      await prober;
      probes.sort((a, b) => a - b);
      runs[id].push({ ...run, probeMax: probes.at(-1), probeP99: probes[Math.ceil(0.99 * probes.length) - 1] });
      log(
        `[${platform}] burst ${id}: ${run.rps.toFixed(0)}/s, p99 ${run.p99.toFixed(0)} ms, health max ${probes.at(-1).toFixed(1)} ms`,
      );
    }
  }
  return runs;
}

function report(info, platforms) {
  const lines = [
    `Machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}; ${info.date}`,
    `Settings: ${config.rounds} rounds of ${config.duration} s per case and K, guarded and unguarded alternating; ${config.connections} connections` +
      `${config.rate ? `, ${config.rate} requests/s (open loop)` : ', as fast as answered'}; ` +
      `verifiedTokenCacheMb ${config.cacheMb ?? 'default'}; ` +
      (Object.values(platforms).every((result) => result.pinned)
        ? 'load generator on core 0, app on core 1'
        : 'not pinned'),
    "Each request carries the next of K sessions (cookie JWT), round robin; guarded = CrossmintAuthGuard with @CurrentUser('userId').",
    "CPU ×: median of the rounds' guarded ÷ unguarded app CPU per request; ÷ K=1: that ratio over K=1's (the machine's drift between K steps cancels out); RSS and heap after a full GC, after the K rounds.",
    '',
    '| platform | K | unguarded CPU µs/req | guarded CPU µs/req | CPU × | CPU × ÷ K=1 | guarded ÷ K=1 | unguarded req/s | guarded req/s | p99 ms (unguarded / guarded) | RSS MB | heap MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [platform, { rows }] of Object.entries(platforms)) {
    const base = rows[0].me.cpuUsPerRequest;
    for (const row of rows) {
      lines.push(
        `| ${platform} | ${fmt(row.k)} | ${fmt(row.open.cpuUsPerRequest, 1)} | ${fmt(row.me.cpuUsPerRequest, 1)} | ${fmt(row.cpuRatio, 3)} | ${fmt(row.cpuRatio / rows[0].cpuRatio, 3)} | ` +
          `${fmt(row.me.cpuUsPerRequest / base, 3)} | ${fmt(row.open.rps)} | ${fmt(row.me.rps)} | ${fmt(row.open.p99, 2)} / ${fmt(row.me.p99, 2)} | ` +
          `${fmt(mb(row.memory.rss), 0)} | ${fmt(mb(row.memory.heapUsed), 1)} |`,
      );
    }
  }
  lines.push(
    '',
    `Cold bursts: ${config.burst} fresh sessions at once over ${config.burstConnections} connections, two bursts per route (median); health = an unguarded route fetched every ${config.probeMs} ms meanwhile.`,
    '',
    '| platform | route | verifications/s | p99 ms | ÷ bare jose (req/s) | health max ms | health p99 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [platform, { bursts }] of Object.entries(platforms)) {
    const rps = (id) => median(bursts[id].map((run) => run.rps));
    for (const [id, label] of [
      ['jose', 'bare jose.jwtVerify in the handler'],
      ['me', 'CrossmintAuthGuard'],
    ]) {
      const runs = bursts[id];
      lines.push(
        `| ${platform} | ${label} | ${fmt(rps(id))} | ${fmt(median(runs.map((run) => run.p99)), 1)} | ${fmt(rps(id) / rps('jose'), 3)} | ` +
          `${fmt(Math.max(...runs.map((run) => run.probeMax)), 1)} | ${fmt(median(runs.map((run) => run.probeP99)), 1)} |`,
      );
    }
  }
  lines.push(
    '',
    'CPU × per round:',
    ...Object.entries(platforms).flatMap(([platform, { rows }]) =>
      rows.map((row) => `- ${platform} K=${row.k}: ${row.cpuRatios.map((r) => r.toFixed(3)).join(' ')}`),
    ),
  );
  return lines.join('\n');
}
