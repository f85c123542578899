// npm run bench:compare -- <other checkout> [platform]: this build against another (an older commit checked out and
// built elsewhere, e.g. `git worktree add ../base <commit> && (cd ../base && npm run build)`), on the same load.
// Both bench apps are pinned to the same core and take turns, window by window, so the machine's drift falls on
// both alike. Prints each build's CPU per request, unguarded and guarded (`me`), and their ratio per K.
//
// Environment: COMPARE_KS=1,100000 (sessions taking turns)  COMPARE_ROUNDS=12  COMPARE_WINDOW=0.5 (s)
//   COMPARE_RATE: requests/s, open loop, for the measured windows (unset: as fast as answered; see bench:scale)
import 'reflect-metadata';
import { resolve } from 'node:path';
import { ensureBuild, envList, envNumber, fmt, measureApp, median, startApp } from './support.mjs';

const [other, platform = 'fastify'] = process.argv.slice(2);
if (!other) throw new Error('usage: npm run bench:compare -- <path of another built checkout> [express|fastify]');
ensureBuild();
const { CrossmintAuthEmulator } = await import('../dist/esm/testing/index.js');
const { startApp: startOther } = await import(resolve(other, 'bench/support.mjs'));
const ks = envList('COMPARE_KS', ['1', '100000']).map(Number);
const rounds = Math.max(1, envNumber('COMPARE_ROUNDS', 12));
const windowSec = envNumber('COMPARE_WINDOW', 0.5);
const rate = envNumber('COMPARE_RATE', 0);

const emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: 3600 });
const sessions = [];
for (let i = 0; i < Math.max(...ks); i++) sessions.push(`crossmint-jwt=${await emulator.mintJwt({ ttlSec: 3600 })}`);
const apps = {
  other: await startOther(platform, emulator.moduleOptions()),
  this: await startApp(platform, emulator.moduleOptions()),
};

async function cpuPerRequest(app, path, headers, options) {
  const { cpuUsPerRequest } = await measureApp(app, path, headers, {
    connections: 10,
    recordLatencies: false,
    ...options,
  });
  return cpuUsPerRequest;
}

try {
  // JIT warm-up on one session (Express takes many seconds of load to settle).
  for (const app of Object.values(apps)) {
    for (const path of ['/bench/open', '/bench/me', '/bench/open', '/bench/me'])
      await cpuPerRequest(app, path, { cookie: sessions[0] }, { duration: 4 });
  }
  console.log(`| build | K | unguarded CPU µs/req | guarded CPU µs/req | CPU × |`);
  console.log(`| --- | ---: | ---: | ---: | ---: |`);
  for (const k of ks) {
    let next = 0;
    const headers = () => ({ cookie: sessions[next++ % k] });
    for (const app of Object.values(apps))
      await cpuPerRequest(app, '/bench/me', headers, { amount: k, connections: Math.min(k, 10) });
    const runs = { other: { open: [], me: [] }, this: { open: [], me: [] } };
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? ['this', 'other'] : ['other', 'this']) {
        for (const route of round % 2 ? ['me', 'open'] : ['open', 'me'])
          runs[name][route].push(
            await cpuPerRequest(apps[name], `/bench/${route}`, headers, { duration: windowSec, rate }),
          );
      }
    }
    for (const name of ['other', 'this']) {
      const { open, me } = runs[name];
      const ratio = median(me.map((cpu, i) => cpu / open[i]));
      console.log(`| ${name} | ${fmt(k)} | ${fmt(median(open), 1)} | ${fmt(median(me), 1)} | ${fmt(ratio, 3)} |`);
    }
  }
} finally {
  for (const app of Object.values(apps)) await app.stop();
  await emulator.stop();
}
