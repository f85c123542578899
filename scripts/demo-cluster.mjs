// npm run demo:cluster: nginx (TLS) in front of three sample-app instances, Redis and one Crossmint emulator,
// all on 127.0.0.1. Ctrl-C stops everything it started. `--smoke`: start, check one sign-in, stop (for CI).
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { buildSample, startCluster } from './demo-cluster-topology.mjs';

const smoke = process.argv.includes('--smoke');
const jwtTtlSec = Number(process.env.JWT_TTL_SEC ?? 60);

buildSample();
const cluster = await startCluster({
  jwtTtlSec,
  log: smoke ? () => {} : (source, line) => console.log(`[${source}] ${line}`),
});
process.once('exit', () => cluster.killNow());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cluster.stop();
    process.exit(0);
  });
}

if (smoke) {
  const ok = await smokeTest(cluster);
  await cluster.stop();
  process.exit(ok ? 0 : 1);
}

console.log(`
Crossmint emulator   ${cluster.emulator.baseUrl} (JWTs live ${jwtTtlSec} s; JWT_TTL_SEC to change)
Redis                redis://127.0.0.1:${cluster.redis.port}
Instances            ${cluster.instances.map((instance) => `${instance.id} on 127.0.0.1:${instance.port}`).join(', ')}
nginx (TLS)          ${cluster.url}  (self-signed; access log ${cluster.dir}/access.log)

${cluster.url.split('//')[1].split(':')[0]} resolves nowhere: open the site in a Chromium started with
  chromium ${cluster.chromiumArgs.map((arg) => `'${arg}'`).join(' ')} ${cluster.url}/sign-in
or with curl:
  curl -k --resolve ${cluster.url.split('//')[1]}:127.0.0.1 -c jar.txt -b jar.txt -d email=alice@example.com ${cluster.url}/dev/sign-in
  curl -k --resolve ${cluster.url.split('//')[1]}:127.0.0.1 -b jar.txt -i ${cluster.url}/me    (see X-Instance)
Ctrl-C stops everything.`);

/** Signs in through nginx and reads /me back: 200 from each of the three instances. */
async function smokeTest({ url, certFile }) {
  const ca = await readFile(certFile);
  const { hostname, port } = new URL(url);
  const call = (method, path, headers = {}, body) =>
    new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        servername: hostname,
        ca,
        method,
        path,
        headers: { host: `${hostname}:${port}`, ...headers },
      });
      req.once('error', reject);
      req.once('response', (res) => res.resume().once('end', () => resolve(res)));
      req.end(body);
    });
  const signIn = await call(
    'POST',
    '/dev/sign-in',
    { 'content-type': 'application/x-www-form-urlencoded' },
    'email=smoke%40example.com',
  );
  const cookie = (signIn.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ');
  const answers = await Promise.all([1, 2, 3].map(() => call('GET', '/me', { cookie })));
  const instances = new Set(answers.map((res) => res.headers['x-instance']));
  const ok = signIn.statusCode === 303 && answers.every((res) => res.statusCode === 200) && instances.size === 3;
  console.log(
    `demo:cluster smoke: sign-in ${signIn.statusCode}, /me ${answers.map((res) => res.statusCode).join(' ')} from ${[...instances].join(', ')}: ${ok ? 'ok' : 'FAILED'}`,
  );
  return ok;
}
