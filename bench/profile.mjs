// npm run bench:profile [platform] [routeA] [routeB]: where the CPU time per request goes on two routes of the
// bench app, function by function, side by side. Both routes are driven in turns of short windows against one
// app process running with --cpu-prof; the profile's samples are then split by the window they fall in. Taking
// turns matters here: this machine's speed drifts by more than a guard costs, so two profiles taken one after the
// other differ mostly by when they were taken.
//
//   npm run bench:profile -- fastify /bench/open /bench/guarded
//   PROFILE_KS=1,100000 npm run bench:profile -- fastify /bench/me /bench/me   (one route, 1 against 100,000 sessions)
// Environment: PROFILE_ROUNDS=30 (turns per route)  PROFILE_WINDOW=0.25 (s)  PROFILE_TOP=30 (rows)
//   PROFILE_INTERVAL=50 (sampling interval, µs)  PROFILE_KS=1,1 (distinct sessions per route, taking turns)
//   PROFILE_RATE: requests/s, open loop (unset: as fast as answered; see bench:scale)
import 'reflect-metadata';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuild, envList, envNumber, load, startApp } from './support.mjs';

ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');

const [platform = 'fastify', ...args] = process.argv.slice(2);
const paths = args.length === 2 ? args : ['/bench/open', '/bench/guarded'];
const rounds = Math.max(1, envNumber('PROFILE_ROUNDS', 30));
const windowSec = envNumber('PROFILE_WINDOW', 0.25);
const top = envNumber('PROFILE_TOP', 30);
const profileDir = mkdtempSync(join(tmpdir(), 'crossmint-bench-profile-'));

const emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 3600 });
const ks = envList('PROFILE_KS', ['1', '1']).map(Number);
const sessions = [];
for (let i = 0; i < Math.max(...ks); i++) sessions.push(`crossmint-jwt=${await emulator.mintJwt({ ttlSec: 3600 })}`);
// Each route its label, and its K sessions in turn, round robin.
const routes = paths.map((path, i) => {
  let next = 0;
  const k = ks[i] ?? 1;
  return {
    path,
    label: ks[0] === ks[1] ? path : `${path} (K=${k})`,
    k,
    headers: () => ({ cookie: sessions[next++ % k] }),
  };
});
process.env.BENCH_APP_NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-interval=${envNumber('PROFILE_INTERVAL', 50)}`;
const app = await startApp(platform, emulator.moduleOptions());

// Windows on process.hrtime's clock, in µs: the same monotonic clock as the profile's timestamps.
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const windows = [];
try {
  // Warm-up, every session seen once.
  for (const { path, k, headers } of routes) {
    await load({ url: app.url + path, headers, amount: k, connections: Math.min(k, 10) });
    await load({ url: app.url + path, headers, duration: 1, connections: 10 });
  }
  for (let round = 0; round < rounds; round++) {
    for (const { path, label, headers } of round % 2 ? [...routes].reverse() : routes) {
      const start = nowUs();
      const { requests, non2xx } = await load({
        url: app.url + path,
        headers,
        duration: windowSec,
        connections: 10,
        rate: envNumber('PROFILE_RATE', 0),
        recordLatencies: false,
      });
      if (non2xx) throw new Error(`${path} answered ${non2xx} non-2xx responses`);
      windows.push({ path: label, start, end: nowUs(), requests });
    }
  }
} finally {
  await app.stop(); // writes the profile
  await emulator.stop();
}

const profile = JSON.parse(readFileSync(join(profileDir, readdirSync(profileDir)[0]), 'utf8'));
rmSync(profileDir, { recursive: true, force: true });
const perRoute = splitByWindow(profile, windows);
const [a, b] = routes.map(({ label }) => perRoute.get(label));
const labels = routes.map(({ label }) => label);
console.log(
  `${platform}: ${labels[0]} ${(a.busyUs / a.requests).toFixed(2)} µs of CPU per request (${a.requests} requests), ` +
    `${labels[1]} ${(b.busyUs / b.requests).toFixed(2)} µs (${b.requests} requests)`,
);
console.log(`Self time per request, µs, largest differences first (${labels[0]} | ${labels[1]} | difference):`);
const names = new Set([...a.selfUs.keys(), ...b.selfUs.keys()]);
const rows = [...names]
  .map((name) => ({ name, a: (a.selfUs.get(name) ?? 0) / a.requests, b: (b.selfUs.get(name) ?? 0) / b.requests }))
  .sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
for (const { name, a: x, b: y } of rows.slice(0, top)) {
  console.log(
    `${x.toFixed(3).padStart(8)} ${y.toFixed(3).padStart(8)} ${((y >= x ? '+' : '') + (y - x).toFixed(3)).padStart(8)}  ${name}`,
  );
}

/** Busy (not idle) sampled time and self time per function, of the samples inside each route's windows. */
function splitByWindow({ nodes, samples, timeDeltas, startTime }, windows) {
  const frames = new Map(nodes.map((node) => [node.id, node.callFrame]));
  const result = new Map(windows.map(({ path }) => [path, { requests: 0, busyUs: 0, selfUs: new Map() }]));
  for (const { path, requests } of windows) result.get(path).requests += requests;
  let time = startTime;
  let current = 0;
  for (let i = 0; i < samples.length; i++) {
    time += timeDeltas[i];
    while (current < windows.length && windows[current].end < time) current++;
    const window = windows[current];
    const frame = frames.get(samples[i]);
    if (!window || time < window.start || frame.functionName === '(idle)') continue;
    // A sample stands for the time until the next one.
    const spent = timeDeltas[i + 1] ?? 0;
    const route = result.get(window.path);
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    route.busyUs += spent;
    route.selfUs.set(name, (route.selfUs.get(name) ?? 0) + spent);
  }
  return result;
}

function shortUrl(url) {
  return url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, 'dist/')
    .replace(/^file:\/\/.*\/bench\//, 'bench/');
}
