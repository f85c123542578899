// npm run bench: the guard's cost, side by side with the same route unguarded, on Express and Fastify,
// plus verifyCrossmintJwt against bare jose in process. See BENCHMARKS.md for the method and results.
//
// Environment (defaults keep the run to about 6 minutes on 2 cores):
//   BENCH_PLATFORMS=express,fastify  BENCH_APPS=3 (app processes per platform, taking the rounds in turn)  BENCH_ROUNDS=48  BENCH_DURATION=0.25 (s per measurement)  BENCH_WARMUP=1 (s)
//   BENCH_CONNECTIONS=10  BENCH_REFRESH_REQUESTS=3000 (fresh expired sessions for the refresh path)
//   BENCH_SESSIONS=10000 (distinct sessions for the cold path)  BENCH_VERIFY_MS=1000  BENCH_VERIFY_TOKENS=3000  BENCH_VERIFY_ROUNDS=5
//   BENCH_ALGORITHM=ES256|RS256  BENCH_JSON=<file> (also write the raw results)
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import {
  ensureBuild,
  envList,
  envNumber,
  fmt,
  load,
  machine,
  machineBusyMs,
  mb,
  median,
  ownCpuMs,
  startApp,
} from './support.mjs';

ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');
const { CrossmintAuthModule, CrossmintAuthService } = await import('../dist/esm/index.js');
const { createLocalJWKSet, jwtVerify } = await import('jose');
const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');

const config = {
  platforms: envList('BENCH_PLATFORMS', ['express', 'fastify']),
  apps: Math.max(1, envNumber('BENCH_APPS', 3)),
  rounds: Math.max(1, envNumber('BENCH_ROUNDS', 48)),
  duration: envNumber('BENCH_DURATION', 0.25),
  warmup: envNumber('BENCH_WARMUP', 1),
  connections: Math.max(1, envNumber('BENCH_CONNECTIONS', 10)),
  refreshRequests: Math.max(10, envNumber('BENCH_REFRESH_REQUESTS', 3000)),
  sessions: Math.max(10, envNumber('BENCH_SESSIONS', 10_000)),
  verifyMs: envNumber('BENCH_VERIFY_MS', 1000),
  verifyTokens: Math.max(100, envNumber('BENCH_VERIFY_TOKENS', 3000)),
  verifyRounds: Math.max(1, envNumber('BENCH_VERIFY_ROUNDS', 5)),
  algorithm: process.env.BENCH_ALGORITHM ?? 'ES256',
};
const log = (...args) => console.error(...args);
const startedAt = Date.now();

const emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 3600, algorithm: config.algorithm });
const moduleOptions = emulator.moduleOptions();

const session = await emulator.createSession();
const cookieHeaders = {
  cookie: `crossmint-jwt=${session.jwt}; crossmint-refresh-token=${session.refreshToken.secret}`,
};
const bearerHeaders = { authorization: `Bearer ${session.jwt}` };

// The steady-state cases, measured alternately in every round. (a) gets the same cookies as (b): same bytes on the wire.
const STEADY = [
  { id: 'a', label: 'unguarded route', path: '/bench/open', headers: cookieHeaders },
  { id: 'a0', label: 'floor: a guard that only sets request.user', path: '/bench/floor', headers: cookieHeaders },
  { id: 'b', label: 'guarded, cookie JWT', path: '/bench/guarded', headers: cookieHeaders },
  { id: 'c', label: 'guarded, Bearer JWT', path: '/bench/guarded', headers: bearerHeaders },
  { id: 'd', label: 'interceptor only, cookie JWT', path: '/bench/optional', headers: cookieHeaders },
  {
    id: 'd0',
    label: 'pass-through interceptor (the floor for (d))',
    path: '/bench/passthrough',
    headers: cookieHeaders,
  },
];

log(`minting ${config.sessions} sessions for the cold path...`);
const coldSessions = [];
for (let i = 0; i < config.sessions; i++) {
  const { jwt, refreshToken } = await emulator.createSession();
  coldSessions.push(`crossmint-jwt=${jwt}; crossmint-refresh-token=${refreshToken.secret}`);
}

const verifyResults = await benchVerify();
const platformResults = {};
for (const platform of config.platforms) platformResults[platform] = await benchPlatform(platform);
await emulator.stop();

const info = machine();
const output = report(info, platformResults, verifyResults);
console.log(output);
if (process.env.BENCH_JSON)
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ info, config, platformResults, verifyResults }, null, 2));
log(`bench finished in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

// ---- HTTP ----

async function benchPlatform(platform) {
  log(`\n[${platform}] starting ${config.apps} app processes`);
  const apps = [];
  try {
    for (let i = 0; i < config.apps; i++) apps.push(await startApp(platform, moduleOptions));
    const colds = [];
    const warms = [];
    for (const [index, app] of apps.entries()) {
      const first = await fetch(`${app.url}/bench/guarded`, { headers: cookieHeaders });
      if (first.status !== 200) throw new Error(`guarded route answered ${first.status}: ${await first.text()}`);
      if (config.warmup > 0) for (const scenario of STEADY) await measure(app, scenario, { duration: config.warmup });

      // The cold path first: it also fills the verified-token cache, so the steady-state cases below run
      // against a full cache, as on a server with many users.
      let nextCold = 0;
      const coldHeaders = () => ({ cookie: coldSessions[nextCold++ % coldSessions.length] });
      colds.push(await measure(app, { path: '/bench/guarded', headers: coldHeaders }, { amount: coldSessions.length }));
      warms.push(await measure(app, { path: '/bench/guarded', headers: coldHeaders }, { amount: coldSessions.length }));
      log(`[${platform}] app ${index + 1}: f ${colds[index].rps.toFixed(0)}/s, f2 ${warms[index].rps.toFixed(0)}/s`);
    }

    // Every case is measured right beside its own run of (a), the pair's order alternating from round to round,
    // so a slower moment of this shared machine hits both sides of a ratio alike. The rounds go to the app
    // processes in turn: one process's ratios differ from another's by more than the rounds vary (each JIT-compiles
    // and lays out its heap in its own way), so a single process would decide the result by chance.
    const [unguarded, ...others] = STEADY;
    const rounds = [];
    for (let round = 1; round <= config.rounds; round++) {
      const appIndex = (round - 1) % apps.length;
      const app = apps[appIndex];
      const results = { a: [] };
      const ratios = {};
      // Each round starts one case later, so no case always follows the same one.
      const order = others.map((_, i) => others[(i + round - 1) % others.length]);
      const measureFor = (scenario) => measure(app, scenario, { duration: config.duration });
      for (const scenario of order) {
        let base, run;
        if (round % 2) {
          base = await measureFor(unguarded);
          run = await measureFor(scenario);
        } else {
          run = await measureFor(scenario);
          base = await measureFor(unguarded);
        }
        results.a.push(base);
        results[scenario.id] = run;
        ratios[scenario.id] = run.rps / base.rps;
      }
      rounds.push({ appIndex, results, ratios });
      log(
        `[${platform}] round ${round} (app ${appIndex + 1}): ` +
          others.map(({ id }) => `${id}/a ${ratios[id].toFixed(3)}`).join(', '),
      );
    }

    const rows = STEADY.map((scenario) => {
      const runs = rounds.flatMap(({ results }) => results[scenario.id]);
      const ratios = scenario === unguarded ? [] : rounds.map((round) => round.ratios[scenario.id]);
      const ratiosOfApp = (index) =>
        rounds.filter((round) => round.appIndex === index).map((round) => round.ratios[scenario.id]);
      return {
        ...scenario,
        rps: median(runs.map((run) => run.rps)),
        p99: median(runs.map((run) => run.p99)),
        ratio: scenario === unguarded ? 1 : median(ratios),
        ratios,
        ratioPerApp: scenario === unguarded ? [] : apps.map((_, index) => median(ratiosOfApp(index))),
        jwksPer1k: per1k(runs, 'jwks'),
        refreshPer1k: per1k(runs, 'refresh'),
        cpu: median(runs.map((run) => run.cpu)),
        cpuUsPerRequest: median(runs.map((run) => run.cpuUsPerRequest)),
        otherCores: Math.max(...runs.map((run) => run.otherCores)),
        runs,
      };
    });
    const unguardedRps = rows[0].rps;

    log(`[${platform}] minting ${config.refreshRequests} expired sessions for the refresh path...`);
    const expired = [];
    for (let i = 0; i < config.refreshRequests; i++) {
      const { jwt, refreshToken } = await emulator.createSession({ expired: true });
      expired.push(`crossmint-jwt=${jwt}; crossmint-refresh-token=${refreshToken.secret}`);
    }
    let nextExpired = 0;
    const refresh = await measure(
      apps[0],
      { path: '/bench/guarded', headers: () => ({ cookie: expired[nextExpired++ % expired.length] }) },
      { amount: config.refreshRequests },
    );
    log(`[${platform}] e ${refresh.rps.toFixed(0)}/s`);
    rows.push(
      { id: 'e', label: 'refresh path (fresh expired session each request)', ...single(refresh, unguardedRps) },
      {
        id: 'f',
        label: `${coldSessions.length} distinct sessions, round robin, first pass (cold)`,
        ...single(medianRun(colds), unguardedRps),
      },
      {
        id: 'f2',
        label: `same ${coldSessions.length} sessions, second pass (verified-token cache)`,
        ...single(medianRun(warms), unguardedRps),
      },
    );

    // After the run the first app's caches are full: 10,000 verified tokens, recent refresh results.
    const memory = await apps[0].memory();
    return { rows, rounds, memory, pinned: apps.every((app) => app.pinned) };
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
  }
}

/** Of runs of the same case in different app processes, the one with the median requests/s. */
function medianRun(runs) {
  return [...runs].sort((x, y) => x.rps - y.rps)[(runs.length - 1) >> 1];
}

/**
 * One load run, with the emulator's call counters and three CPU readings around it: the app's CPU time (per request
 * and as a share of one core), and what the rest of the machine (other than the app and this process) was doing.
 */
async function measure(app, scenario, { duration, amount }) {
  emulator.resetCalls();
  const appBefore = await app.cpuMs();
  const ownBefore = ownCpuMs();
  const busyBefore = machineBusyMs();
  const startedAt = performance.now();
  const result = await load({
    url: app.url + scenario.path,
    headers: scenario.headers,
    duration,
    amount,
    connections: config.connections,
  });
  const wallMs = performance.now() - startedAt;
  const busy = machineBusyMs() - busyBefore;
  const own = ownCpuMs() - ownBefore;
  const appCpu = (await app.cpuMs()) - appBefore;
  const calls = { jwks: emulator.calls('jwks'), refresh: emulator.calls('refresh') };
  if (result.errors || result.non2xx) {
    throw new Error(`${scenario.path}: ${result.errors} errors, status codes ${JSON.stringify(result.statusCodes)}`);
  }
  return {
    ...result,
    calls,
    cpu: appCpu / wallMs,
    cpuUsPerRequest: (appCpu * 1000) / result.requests,
    otherCores: Math.max(0, (busy - own - appCpu) / wallMs),
  };
}

function per1k(runs, route) {
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const calls = runs.reduce((sum, run) => sum + run.calls[route], 0);
  return (calls * 1000) / requests;
}

function single(run, unguardedRps) {
  return {
    rps: run.rps,
    p99: run.p99,
    ratio: run.rps / unguardedRps,
    jwksPer1k: per1k([run], 'jwks'),
    refreshPer1k: per1k([run], 'refresh'),
    cpu: run.cpu,
    cpuUsPerRequest: run.cpuUsPerRequest,
    otherCores: run.otherCores,
    requests: run.requests,
  };
}

// ---- in process: verifyCrossmintJwt against bare jose ----

async function benchVerify() {
  log('verify: verifyCrossmintJwt (via CrossmintAuthService) against bare jose.jwtVerify');
  class VerifyModule {}
  Reflect.decorate([Module({ imports: [CrossmintAuthModule.forRoot(moduleOptions)] })], VerifyModule);
  const context = await NestFactory.createApplicationContext(VerifyModule, { logger: ['error', 'warn'] });
  const service = context.get(CrossmintAuthService);
  // The same checks the library asks jose for, with the key set already in memory.
  const keySet = createLocalJWKSet(emulator.jwks());
  const verifyOptions = {
    algorithms: ['ES256', 'RS256'],
    audience: emulator.projectId,
    clockTolerance: 5,
    requiredClaims: ['exp', 'sub'],
  };
  const bare = (token) => jwtVerify(token, keySet, verifyOptions);
  const viaService = (token) => service.verifyCrossmintJwt(token);

  const tokens = [];
  for (let i = 0; i < config.verifyTokens * config.verifyRounds; i++)
    tokens.push(await emulator.mintJwt({ ttlSec: 3600 }));
  await viaService(session.jwt); // the one JWKS fetch
  await alternate({ bare, service: viaService }, () => session.jwt, { ms: 200 }); // JIT warm-up

  // Both sides take turns in small batches, so a slower moment of the machine hits both alike.
  const repeated = { bare: [], service: [] };
  const distinct = { bare: [], service: [] };
  for (let round = 0; round < config.verifyRounds; round++) {
    const same = await alternate({ bare, service: viaService }, () => session.jwt, { ms: config.verifyMs });
    // Each round gets its own tokens, none seen before by the service (jose has no cache).
    const slice = tokens.slice(round * config.verifyTokens, (round + 1) * config.verifyTokens);
    const fresh = await alternate({ bare, service: viaService }, (i) => slice[i], { count: slice.length });
    for (const side of ['bare', 'service']) {
      repeated[side].push(same[side]);
      distinct[side].push(fresh[side]);
    }
  }
  await context.close();
  const summarize = (runs) => ({
    bare: median(runs.bare),
    service: median(runs.service),
    // Time per call relative to bare jose: the target is <= 1.10.
    cost: median(runs.bare.map((bareOps, i) => bareOps / runs.service[i])),
  });
  return { repeated: summarize(repeated), distinct: summarize(distinct) };
}

/** Operations per second of each side, run in alternating batches of 50: until `ms` per side, or over `count` tokens. */
async function alternate(sides, token, { ms = Infinity, count = Infinity }) {
  const spent = { bare: 0, service: 0 };
  let done = 0;
  while (done < count && spent.bare < ms) {
    const batch = Math.min(50, count - done);
    for (const side of ['bare', 'service']) {
      const start = performance.now();
      for (let i = done; i < done + batch; i++) await sides[side](token(i));
      spent[side] += performance.now() - start;
    }
    done += batch;
  }
  return { bare: (done * 1000) / spent.bare, service: (done * 1000) / spent.service };
}

// ---- output ----

function report(info, platforms, verify) {
  const lines = [
    `Machine: ${info.nproc} cores, ${info.cpu}, Node ${info.node}; ${info.date}`,
    `Settings: ${config.rounds} rounds over ${config.apps} app processes per platform, in each every steady-state case for ${config.duration} s right beside its own ${config.duration} s of (a); ` +
      `${config.connections} connections, ${config.refreshRequests} refresh-path requests, ${config.sessions} distinct sessions, ${config.algorithm} keys; ` +
      (Object.values(platforms).every((result) => result.pinned)
        ? 'load generator on core 0, apps on core 1 (taskset)'
        : 'processes not pinned to cores'),
    "(a)–(d0): medians of the rounds, run with the verified-token cache full; ÷ unguarded: median of the rounds' ratios",
    'of each case to the (a) run beside it. (e): one run; (f), (f2): the app process with the median req/s. "other load": cores busy with other processes',
    'during the measurement (highest of the rounds); anything well above 0 means the numbers are disturbed.',
    '',
    '| platform | case | req/s | p99 ms | ÷ unguarded | JWKS calls / 1k req | refresh calls / 1k req | app CPU µs / req | app CPU | other load |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [platform, { rows }] of Object.entries(platforms)) {
    for (const row of rows) {
      lines.push(
        `| ${platform} | (${row.id}) ${row.label} | ${fmt(row.rps)} | ${fmt(row.p99, 2)} | ${fmt(row.ratio, 3)} | ` +
          `${fmt(row.jwksPer1k, 2)} | ${fmt(row.refreshPer1k, 1)} | ${fmt(row.cpuUsPerRequest)} | ${fmt(row.cpu * 100)}% | ${fmt(row.otherCores, 2)} |`,
      );
    }
  }
  lines.push(
    '',
    'Steady-state ratios to (a), median of each app process:',
    ...Object.entries(platforms).map(
      ([platform, { rows }]) =>
        `- ${platform}: ` +
        rows
          .slice(1, STEADY.length)
          .map((row) => `${row.id}/a ${row.ratioPerApp.map((r) => r.toFixed(3)).join(' ')}`)
          .join('; '),
    ),
    '',
    'Steady-state ratios to (a), per round:',
    ...Object.entries(platforms).map(
      ([platform, { rows }]) =>
        `- ${platform}: ` +
        rows
          .slice(1, STEADY.length)
          .map((row) => `${row.id}/a ${row.ratios.map((r) => r.toFixed(3)).join(' ')}`)
          .join('; '),
    ),
    '',
    'Memory of the first app process after the run, after a full GC (caches full): ' +
      Object.entries(platforms)
        .map(
          ([platform, { memory }]) =>
            `${platform} RSS ${mb(memory.rss).toFixed(1)} MB, heap used ${mb(memory.heapUsed).toFixed(1)} MB`,
        )
        .join('; '),
    '',
    '| in process | bare jose.jwtVerify ops/s | verifyCrossmintJwt ops/s | time per call ÷ bare jose |',
    '| --- | ---: | ---: | ---: |',
    `| same token again and again (cache hit) | ${fmt(verify.repeated.bare)} | ${fmt(verify.repeated.service)} | ${fmt(verify.repeated.cost, 3)} |`,
    `| distinct tokens, each seen once (cache miss) | ${fmt(verify.distinct.bare)} | ${fmt(verify.distinct.service)} | ${fmt(verify.distinct.cost, 3)} |`,
    '',
    'Targets (guarded ≥ 0.90 of unguarded, no JWKS fetch at steady state):',
    ...Object.entries(platforms).map(([platform, { rows }]) => {
      const [floor, b] = ['a0', 'b'].map((id) => rows.find((row) => row.id === id));
      return `- ${platform}: b/a = ${b.ratio.toFixed(3)} (target >= 0.90) ${b.ratio >= 0.9 ? 'MET' : 'MISSED'}; the floor a0/a = ${floor.ratio.toFixed(3)}`;
    }),
    ...Object.entries(platforms).map(([platform, { rows }]) => {
      const steady = rows.filter((row) => ['a', 'a0', 'b', 'c', 'd', 'f2'].includes(row.id));
      const jwks = Math.max(...steady.map((row) => row.jwksPer1k));
      return `- ${platform}: JWKS fetches per 1k requests at steady state = ${jwks.toFixed(2)} (target 0) ${jwks === 0 ? 'MET' : 'MISSED'}`;
    }),
    `- verifyCrossmintJwt time ÷ bare jose: ${verify.repeated.cost.toFixed(3)} repeated, ${verify.distinct.cost.toFixed(3)} distinct (target <= 1.10) ` +
      `${Math.max(verify.repeated.cost, verify.distinct.cost) <= 1.1 ? 'MET' : 'MISSED'}`,
  );
  return lines.join('\n');
}
