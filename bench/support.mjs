// Shared pieces of the benchmarks: the build check, the app child process and the load generator.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST_ENTRY = join(ROOT, 'dist/esm/index.js');

/** Builds the package when dist is missing or older than a file in lib/, so the bench never measures stale code. */
export function ensureBuild() {
  const builtAt = existsSync(DIST_ENTRY) ? statSync(DIST_ENTRY).mtimeMs : 0;
  const stale = builtAt === 0 || newestMtime(join(ROOT, 'lib')) > builtAt;
  if (!stale) return;
  console.error(
    builtAt === 0 ? 'dist is missing: running npm run build' : 'lib/ is newer than dist: running npm run build',
  );
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

function newestMtime(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${raw}`);
  return value;
}

export function envList(name, fallback) {
  const raw = process.env[name];
  return raw
    ? raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : fallback;
}

/**
 * Starts bench/app.mjs in its own process (its own event loop and core, apart from the load generator).
 * `memory()` asks it to run a full GC and report `process.memoryUsage()`. `pinned`: see pinCores.
 */
export async function startApp(platform, moduleOptions) {
  const child = fork(join(ROOT, 'bench/app.mjs'), [platform], {
    // One GC thread: on a 2-core machine, V8's helper threads would otherwise take CPU from the load generator.
    execArgv: [
      '--expose-gc',
      '--single-threaded-gc',
      ...(process.env.BENCH_APP_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    ],
    env: { ...process.env, BENCH_MODULE_OPTIONS: JSON.stringify(moduleOptions) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies = [];
  let exitCode;
  child.on('message', (message) => replies.shift()?.resolve(message));
  // An app that dies fails what waits on it, rather than leaving the bench waiting for ever.
  const died = () => new Error(`bench app (${platform}) exited with code ${exitCode}`);
  const exited = new Promise((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const reply of replies.splice(0)) reply.reject(died());
      resolve();
    }),
  );
  child.on('error', () => {}); // a message sent after the exit: the exit has failed the reply already
  const next = () =>
    new Promise((resolve, reject) => (exitCode === undefined ? replies.push({ resolve, reject }) : reject(died())));
  const ready = await next();
  if (!ready.url) throw new Error(`bench app (${platform}) did not start: ${JSON.stringify(ready)}`);
  return {
    url: ready.url,
    pid: child.pid,
    pinned: pinCores(child.pid),
    memory() {
      const reply = next();
      child.send({ type: 'gc' });
      return reply;
    },
    /** CPU time (user + system) the app has used so far, in ms. */
    async cpuMs() {
      const reply = next();
      child.send({ type: 'cpu' });
      const { user, system } = await reply;
      return (user + system) / 1000;
    },
    async stop() {
      if (exitCode !== undefined) return;
      child.send({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Gives the load generator (this process) core 0 and the app core 1, all their threads, when there are two
 * cores or more and `taskset` is there (BENCH_PIN=0 leaves them to the scheduler). Two CPU-bound processes moved
 * about between the same two cores make every measurement noisier, the unguarded route's as much as the others'.
 */
function pinCores(appPid) {
  // cpus(), not availableParallelism(): the latter counts only the cores this process may use, 1 once pinned.
  if (process.env.BENCH_PIN === '0' || cpus().length < 2) return false;
  try {
    for (const [pid, core] of [
      [process.pid, 0],
      [appPid, 1],
    ])
      execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * One autocannon run. `headers` is either fixed headers or a function returning the headers of each request
 * (a fresh session, the next token of a round robin). Requests/s is completed requests over the time from the
 * start to the last response, so a run bounded by `amount` is not diluted by autocannon's one-second ticks;
 * latency percentiles are computed here from every response time (autocannon's histogram rounds to 1 ms).
 */
export function load({ url, headers, duration, amount, connections, rate, recordLatencies = true }) {
  if (rate) return pacedLoad({ url, headers, duration, rate, connections });
  const dynamic = typeof headers === 'function';
  const options = {
    url,
    connections,
    pipelining: 1,
    ...(amount ? { amount } : { duration }),
    // autocannon checks for the end of a timed run once per sample interval: 1 s by default, too coarse for short runs.
    sampleInt: 50,
    headers: dynamic ? {} : headers,
    requests: dynamic ? [{ setupRequest: (request) => ({ ...request, headers: headers() }) }] : undefined,
  };
  return new Promise((resolve, reject) => {
    const latencies = [];
    let startedAt = 0;
    let lastResponseAt = 0;
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const seconds = (lastResponseAt - startedAt) / 1000;
      latencies.sort((a, b) => a - b);
      resolve({
        requests: result.requests.total,
        rps: seconds > 0 ? result.requests.total / seconds : 0,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        statusCodes: Object.fromEntries(
          Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
        ),
      });
    });
    startedAt = performance.now();
    instance.on('response', (client, statusCode, bytes, responseTime) => {
      lastResponseAt = performance.now();
      if (recordLatencies) latencies.push(responseTime);
    });
  });
}

/**
 * `load` at a fixed rate (requests/s) for `duration` s, open loop: requests leave on a schedule (each millisecond,
 * those due by then) over at most `connections` keep-alive connections, whether or not earlier ones were answered.
 * Two routes driven at one rate meet the same traffic, as a server does in production; a closed loop instead drives
 * each route as fast as it answers, and on one machine a slower route then leaves the load generator idle more
 * often, and every response's write pays for waking it (the kernel's share, counted in the app's CPU time).
 */
function pacedLoad({ url, headers, duration, rate, connections }) {
  const { hostname, port, pathname } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.max(1, Math.round(rate * duration));
  const latencies = [];
  const statusCodes = {};
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let lastResponseAt = 0;
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const done = () => {
      if (++answered < total) return;
      clearInterval(timer);
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const non2xx = Object.entries(statusCodes).reduce((sum, [code, count]) => sum + (/^2/.test(code) ? 0 : count), 0);
      resolve({
        requests: total - errors,
        rps: (total - errors) / ((lastResponseAt - startedAt) / 1000),
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        non2xx,
        errors,
        statusCodes,
      });
    };
    const send = () => {
      const at = performance.now();
      const request = http.get(
        { agent, hostname, port, path: pathname, headers: typeof headers === 'function' ? headers() : headers },
        (response) => {
          response.resume();
          response.on('end', () => {
            lastResponseAt = performance.now();
            latencies.push(lastResponseAt - at);
            statusCodes[response.statusCode] = (statusCodes[response.statusCode] ?? 0) + 1;
            done();
          });
        },
      );
      request.on('error', () => {
        errors++;
        done();
      });
    };
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * rate));
      for (; sent < due; sent++) send();
    }, 1);
  });
}

/**
 * One `load` run against a bench app (from `startApp`), with the app's CPU time per request it took and how often
 * per request this process (the load generator) slept waiting for the app; throws when a request failed or was not
 * answered 2xx.
 */
export async function measureApp(app, path, headers, options) {
  const before = await app.cpuMs();
  const sleepsBefore = process.resourceUsage().voluntaryContextSwitches;
  const result = await load({ url: app.url + path, headers, ...options });
  const cpu = (await app.cpuMs()) - before;
  const sleeps = process.resourceUsage().voluntaryContextSwitches - sleepsBefore;
  if (result.errors || result.non2xx) {
    throw new Error(`${path}: ${result.errors} errors, status codes ${JSON.stringify(result.statusCodes)}`);
  }
  return {
    ...result,
    cpuUsPerRequest: (cpu * 1000) / result.requests,
    loaderSleepsPerRequest: sleeps / result.requests,
  };
}

/** The `p` quantile (0–1) of values sorted ascending; NaN when there are none. */
function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : NaN;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown';
  return { nproc: cpus().length, cpu: model, node: process.version, date: new Date().toISOString() };
}

export const mb = (bytes) => bytes / (1024 * 1024);

/** A number for the report tables, with `digits` decimals and thousands separators; '–' when not a number. */
export const fmt = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

/** Busy CPU time of the whole machine so far, in ms (from /proc/stat; 0 where there is none). */
export function machineBusyMs() {
  if (!existsSync('/proc/stat')) return 0;
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU time of this process so far, in ms. */
export function ownCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
