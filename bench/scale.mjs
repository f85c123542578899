// npm run bench:scale: the guard's cost as the number of distinct active sessions K grows, with package defaults,
// side by side with the same route unguarded, on Express and Fastify; then a cold burst of fresh sessions against
// bare jose, with a health route probed meanwhile. See BENCHMARKS.md ("Scale").
//
// One app per K, all on the same core, each filled with its K sessions; the rounds take turns between the apps,
// so the machine's drift falls on every K alike. Each turn measures both routes twice:
// - paced: a fixed request rate (open loop), the same for every K and route: CPU per request at equal traffic;
// - as fast as answered (closed loop): requests/s and p99 at saturation. Its CPU per request also depends on how
//   often the load generator, on the other core, waits for a response: see "loader sleeps" in the report.
//
// Environment (defaults in brackets; about 9 minutes on 2 cores):
//   SCALE_KS [1,1000,10000,100000]: the K values; 1M on request: SCALE_KS=1,1000000 (add SCALE_CACHE_MB to size the cache)
//   SCALE_CACHE_MB: verifiedTokenCacheMb for the apps (package default when unset)
//   SCALE_PLATFORMS [express,fastify]  SCALE_ROUNDS [8]  SCALE_DURATION [0.5 s]  SCALE_CONNECTIONS [10]
//   SCALE_RATE: requests/s of the paced windows; unset: SCALE_LOAD [0.3] × the unguarded route's requests/s as fast
//   as answered, measured per platform on the smallest K's app once every app is ready
//   BENCH_APP_NODE_OPTIONS [--min-semi-space-size=16 --max-semi-space-size=16]: V8's young generation (semi-spaces)
//   fixed for every app, since filling a cache with many sessions grows it; a value of your own replaces this one
//   SCALE_BURST [10000] fresh sessions per burst  SCALE_BURST_CONNECTIONS [100]  SCALE_PROBE_MS [10]  SCALE_WARMUP [5 s]
import 'reflect-metadata';
import { ensureBuild, envList, envNumber, fmt, machine, mb, measureApp, median, startApp } from './support.mjs';

ensureBuild();
process.env.BENCH_APP_NODE_OPTIONS ??= '--min-semi-space-size=16 --max-semi-space-size=16';
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');

const config = {
  // Each K once, smallest first: the first is the base of the "÷ K=…" columns.
  ks: [...new Set(envList('SCALE_KS', ['1', '1000', '10000', '100000']).map(Number))].sort((a, b) => a - b),
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
  load: envNumber('SCALE_LOAD', 0.3),
};
if (!config.ks.length || !config.ks.every((k) => Number.isInteger(k) && k > 0))
  throw new Error(`SCALE_KS must list whole numbers above 0, got ${process.env.SCALE_KS}`);
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
  // One app per K: each K's sessions are the first K of the same list.
  const apps = new Map();
  try {
    for (const k of config.ks) {
      const app = await startApp(platform, moduleOptions);
      apps.set(k, app);
      // JIT warm-up on one session, both routes (Express takes many seconds of load to settle).
      for (const id of ['open', 'me', 'open', 'me']) {
        await measure(app, `/bench/${id}`, () => ({ cookie: sessions[0] }), { duration: config.warmup });
      }
      // The largest K's sessions each verified once; every app serves as many guarded requests over its own K
      // sessions, so all have done the same work before the rounds (JIT, heap), and differ by K only.
      await measure(app, '/bench/me', roundRobin(k), { amount: maxK, connections: Math.min(k, config.connections) });
      await app.memory(); // a full GC now, so that the fill's garbage is not collected during the rounds
    }
    const rate = config.rate || (await pacedRate(apps.get(config.ks[0])));
    log(`[${platform}] ${apps.size} apps ready; paced windows at ${fmt(rate)} requests/s`);

    const runs = new Map(config.ks.map((k) => [k, { paced: { open: [], me: [] }, fast: { open: [], me: [] } }]));
    // One cursor per K for all its windows, so every session keeps its turn.
    const cursors = new Map(config.ks.map((k) => [k, roundRobin(k)]));
    for (let round = 0; round < config.rounds; round++) {
      // Each round starts at another K and swaps the routes' order, so no K or route always goes first.
      const ks = config.ks.map((_, i) => config.ks[(i + round) % config.ks.length]);
      for (const k of ks) {
        const app = apps.get(k);
        const headers = cursors.get(k);
        // Each route pair back to back: paced a, paced b, then as fast as answered b, a.
        const [a, b] = round % 2 ? ['me', 'open'] : ['open', 'me'];
        for (const [regime, id, options] of [
          ['paced', a, { rate }],
          ['paced', b, { rate }],
          ['fast', b, {}],
          ['fast', a, {}],
        ]) {
          const windows = runs.get(k)[regime][id];
          windows.push(await measure(app, `/bench/${id}`, headers, { duration: config.duration, ...options }));
        }
      }
      log(`[${platform}] round ${round + 1}/${config.rounds}`);
    }

    const base = runs.get(config.ks[0]);
    const rows = [];
    for (const [k, app] of apps) {
      const row = { k, memory: await app.memory(), ...summarize(runs.get(k), base) };
      rows.push(row);
      log(
        `[${platform}] K=${k}: paced CPU µs/req ${row.paced.open.cpuUsPerRequest.toFixed(1)} → ${row.paced.me.cpuUsPerRequest.toFixed(1)} ` +
          `(×${row.paced.cpuRatio.toFixed(3)}, ÷K=${config.ks[0]} ${row.paced.overBase.toFixed(3)}, unguarded ÷K=${config.ks[0]} ${row.paced.unguardedOverBase.toFixed(3)}); as fast as answered ` +
          `×${row.fast.cpuRatio.toFixed(3)} (÷K=${config.ks[0]} ${row.fast.overBase.toFixed(3)}), req/s ratio ${row.fast.rpsRatio.toFixed(3)}, ` +
          `loader sleeps/req ${row.fast.open.loaderSleeps.toFixed(2)} → ${row.fast.me.loaderSleeps.toFixed(2)}; RSS ${mb(row.memory.rss).toFixed(0)} MB`,
      );
    }
    const bursts = await coldBursts(apps.get(maxK), platform);
    return { rate, rows, bursts, pinned: [...apps.values()].every((app) => app.pinned) };
  } finally {
    for (const app of apps.values()) await app.stop();
  }
}

/** The sessions 0 … k-1 in turn, round robin, as request headers. */
function roundRobin(k) {
  let next = 0;
  return () => ({ cookie: sessions[next++ % k] });
}

/** SCALE_LOAD × the unguarded route's requests/s as fast as answered (median of 3 s), rounded to hundreds. */
async function pacedRate(app) {
  const rps = [];
  for (let i = 0; i < 3; i++) rps.push((await measure(app, '/bench/open', roundRobin(1), { duration: 1 })).rps);
  return Math.max(100, Math.round((config.load * median(rps)) / 100) * 100);
}

/**
 * Per regime (paced, as fast as answered) and route: medians of the windows. Ratios are taken within a round and
 * then their median: CPU × = guarded ÷ unguarded; ÷ K=1 = that ratio over the same round's ratio at the first K;
 * guarded (unguarded) ÷ K=1 = that route's CPU per request over the same round's at the first K. The unguarded
 * one is the control: the same route in every app, it should stay near 1.
 */
function summarize(runs, base) {
  const regime = (name) => {
    const { open, me } = runs[name];
    const side = (windows) => ({
      rps: median(windows.map((run) => run.rps)),
      p99: median(windows.map((run) => run.p99)),
      cpuUsPerRequest: median(windows.map((run) => run.cpuUsPerRequest)),
      loaderSleeps: median(windows.map((run) => run.loaderSleepsPerRequest)),
    });
    const cpuRatios = ratios(me, open);
    const baseRatios = ratios(base[name].me, base[name].open);
    return {
      open: side(open),
      me: side(me),
      cpuRatio: median(cpuRatios),
      cpuRatios,
      overBase: median(cpuRatios.map((ratio, i) => ratio / baseRatios[i])),
      guardedOverBase: median(ratios(me, base[name].me)),
      unguardedOverBase: median(ratios(open, base[name].open)),
      rpsRatio: median(ratios(me, open, 'rps')),
    };
  };
  return { paced: regime('paced'), fast: regime('fast') };
}

/** Window by window (the i-th of each, so of the same round), `field` of `windows` over that of `others`. */
function ratios(windows, others, field = 'cpuUsPerRequest') {
  return windows.map((run, i) => run[field] / others[i][field]);
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
  const pinned = Object.values(platforms).every((result) => result.pinned);
  const rates = Object.entries(platforms)
    .map(([platform, { rate }]) => `${platform} ${fmt(rate)}/s`)
    .join(', ');
  const base = `K=${fmt(config.ks[0])}`;
  const lines = [
    `Machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}; ${info.date}`,
    `Settings: one app per K, ${config.rounds} rounds taking turns between them, ${config.duration} s per window, guarded and unguarded alternating; ` +
      `${config.connections} connections; paced at ${rates}; verifiedTokenCacheMb ${config.cacheMb ?? 'default'}; ` +
      `app flags: ${process.env.BENCH_APP_NODE_OPTIONS || 'none'}; ` +
      (pinned ? 'load generator on core 0, apps on core 1' : 'not pinned'),
    "Each request carries the next of K sessions (cookie JWT), round robin; guarded = CrossmintAuthGuard with @CurrentUser('userId').",
    `CPU ×: median of the rounds' guarded ÷ unguarded app CPU per request; ÷ ${base}: each round's CPU × over the same round's at ${base}; ` +
      `guarded (unguarded) ÷ ${base}: that route's CPU per request over the same round's at ${base} (the unguarded one is the control: ` +
      'the same route in every app). RSS and heap: each app after a full GC, after the rounds.',
    '',
    'Paced (the same requests/s for every K and route):',
    '',
    `| platform | K | unguarded CPU µs/req | guarded CPU µs/req | CPU × | CPU × ÷ ${base} | guarded ÷ ${base} | unguarded ÷ ${base} | p99 ms (unguarded / guarded) | RSS MB | heap MB |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [platform, { rows }] of Object.entries(platforms)) {
    for (const { k, paced, memory } of rows) {
      lines.push(
        `| ${platform} | ${fmt(k)} | ${fmt(paced.open.cpuUsPerRequest, 1)} | ${fmt(paced.me.cpuUsPerRequest, 1)} | ${fmt(paced.cpuRatio, 3)} | ` +
          `${fmt(paced.overBase, 3)} | ${fmt(paced.guardedOverBase, 3)} | ${fmt(paced.unguardedOverBase, 3)} | ` +
          `${fmt(paced.open.p99, 2)} / ${fmt(paced.me.p99, 2)} | ${fmt(mb(memory.rss), 0)} | ${fmt(mb(memory.heapUsed), 1)} |`,
      );
    }
  }
  lines.push(
    '',
    'As fast as answered (closed loop; loader sleeps: how often per request the load generator waited for a response):',
    '',
    `| platform | K | unguarded req/s | guarded req/s | req/s ratio | p99 ms (unguarded / guarded) | CPU × | CPU × ÷ ${base} | guarded ÷ ${base} | unguarded ÷ ${base} | loader sleeps per request (unguarded / guarded) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [platform, { rows }] of Object.entries(platforms)) {
    for (const { k, fast } of rows) {
      lines.push(
        `| ${platform} | ${fmt(k)} | ${fmt(fast.open.rps)} | ${fmt(fast.me.rps)} | ${fmt(fast.rpsRatio, 3)} | ${fmt(fast.open.p99, 2)} / ${fmt(fast.me.p99, 2)} | ` +
          `${fmt(fast.cpuRatio, 3)} | ${fmt(fast.overBase, 3)} | ${fmt(fast.guardedOverBase, 3)} | ${fmt(fast.unguardedOverBase, 3)} | ` +
          `${fmt(fast.open.loaderSleeps, 2)} / ${fmt(fast.me.loaderSleeps, 2)} |`,
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
    'CPU × per round (paced | as fast as answered):',
    ...Object.entries(platforms).flatMap(([platform, { rows }]) =>
      rows.map(
        ({ k, paced, fast }) =>
          `- ${platform} K=${k}: ${paced.cpuRatios.map((r) => r.toFixed(3)).join(' ')} | ${fast.cpuRatios.map((r) => r.toFixed(3)).join(' ')}`,
      ),
    ),
  );
  return lines.join('\n');
}
