// The cost of the telemetry on the hot path: the guard's `resolveRequest` for a JWT verified before (a cache hit),
// and for a request with no credentials (a refusal, counted by reason), in process, without HTTP. Each mode runs in
// its own child process (OpenTelemetry's providers are process-global), the modes taking turns round after round:
//   off  `telemetry: false`                       api  @opentelemetry/api installed, no SDK registered
//   sdk  an SDK registered, spans and metrics exported nowhere (a no-op span exporter, a reader never collected)
// BENCH_TELEMETRY_BASE=<dir> adds `base`: the same measure on another build (e.g. the commit before the telemetry).
// Usage: npm run build && node --expose-gc bench/telemetry-cost.mjs   [BENCH_ROUNDS=9 BENCH_ITERATIONS=2000000]
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuild, envNumber, ROOT } from './support.mjs';

const ROUNDS = envNumber('BENCH_ROUNDS', 9);
const ITERATIONS = envNumber('BENCH_ITERATIONS', 2_000_000);
const REFUSALS = envNumber('BENCH_REFUSALS', 200_000);

if (process.argv[2] === 'child') await child(process.argv[3], process.argv[4]);
else await parent();

async function parent() {
  ensureBuild();
  const modes = [['off'], ['api'], ['sdk']].map(([mode]) => [mode, `${ROOT}/dist/esm`]);
  if (process.env.BENCH_TELEMETRY_BASE) modes.unshift(['base', `${process.env.BENCH_TELEMETRY_BASE}/dist/esm`]);
  const results = Object.fromEntries(modes.map(([mode]) => [mode, { hit: [], refusal: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [mode, dist] of round % 2 ? [...modes].reverse() : modes) {
      const { hit, refusal } = await run(mode, dist);
      results[mode].hit.push(hit);
      results[mode].refusal.push(refusal);
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const spread = (values) => `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
  console.log(`node ${process.version}, ${ROUNDS} rounds; ns per call, median (min-max)`);
  for (const [mode] of modes) {
    const { hit, refusal } = results[mode];
    console.log(
      `${mode.padEnd(5)} cache hit ${median(hit).toFixed(1)} (${spread(hit)})   ` +
        `no credentials ${median(refusal).toFixed(0)} (${spread(refusal)})`,
    );
  }
}

function run(mode, dist) {
  return new Promise((resolve, reject) => {
    const worker = fork(fileURLToPath(import.meta.url), ['child', mode, dist], { execArgv: ['--expose-gc'] });
    const timer = setTimeout(() => worker.kill('SIGKILL'), 120_000);
    worker.once('message', (result) => (clearTimeout(timer), resolve(result)));
    worker.once('exit', (code) => code && reject(new Error(`${mode} exited with ${code}`)));
  });
}

async function child(mode, dist) {
  if (mode === 'sdk') await registerSdk();
  const { CrossmintAuthEmulator } = await import(`${dist}/testing/index.js`);
  const { CrossmintAuthModule, CrossmintSessionResolver } = await import(`${dist}/index.js`);
  const { NestFactory } = await import('@nestjs/core');
  const emulator = await CrossmintAuthEmulator.start();
  const options = { ...emulator.moduleOptions(), ...(mode === 'off' ? { telemetry: false } : {}) };
  const app = await NestFactory.createApplicationContext(CrossmintAuthModule.forRoot(options), { logger: false });
  const resolver = app.get(CrossmintSessionResolver);
  const { jwt } = await emulator.createSession();
  const signedIn = { headers: { cookie: `crossmint-jwt=${jwt}` } };
  const anonymous = { headers: {} };
  // Twice: the first check fetches the keys, and a token checked while the keys changed is not cached.
  await resolver.resolveRequest(signedIn);
  await resolver.resolveRequest(signedIn);
  if (resolver.resolveRequest(signedIn) instanceof Promise) throw new Error('the JWT is not served from the cache');

  const hit = measure(ITERATIONS, () => resolver.resolveRequest(signedIn));
  let refusal = 0;
  for (let pass = 0; pass < 2; pass++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < REFUSALS; i++) await resolver.resolveRequest(anonymous).catch(() => undefined);
    refusal = Number(process.hrtime.bigint() - started) / REFUSALS;
  }
  process.send({ hit, refusal }, () =>
    app
      .close()
      .then(() => emulator.stop())
      .then(() => process.exit(0)),
  );
}

/** ns per call of `fn`, after a warm-up pass. */
function measure(iterations, fn) {
  let result = 0;
  for (let pass = 0; pass < 2; pass++) {
    globalThis.gc?.();
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    result = Number(process.hrtime.bigint() - started) / iterations;
  }
  return result;
}

async function registerSdk() {
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const noopExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: () => Promise.resolve() };
  class IdleReader extends MetricReader {
    onForceFlush() {
      return Promise.resolve();
    }
    onShutdown() {
      return Promise.resolve();
    }
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(noopExporter)] }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new IdleReader()] }));
}
