// The production shape on one machine, for `npm run demo:cluster` and test/browser/deploy.browser.spec.ts:
// nginx terminating TLS in front of three sample-app processes, one redis-server, and one Crossmint emulator
// (in this process) that all three instances use. Everything listens on 127.0.0.1, on ports free at start.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NGINX_TEMPLATE = join(ROOT, 'scripts/demo-cluster.nginx.conf');
const DEPLOY_DOC = join(ROOT, 'docs/deploy.md');
const INSTANCES = 3;
// Generous: three Nest apps starting at once on a busy 2-core machine.
const READY_TIMEOUT_MS = 60_000;
// Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
const NGINX = process.env.NGINX_PATH ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');

export const APP_HOST = 'app.example.test';
/** Another site on the same parent domain: it can set cookies with `Domain=.example.test`. */
export const SIBLING_HOST = 'evil.example.test';

/** Builds what the instances run when its sources changed: the package (dist/), then the sample (sample/dist/). */
export function buildSample() {
  const run = (...args) => execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  const built = mtime('dist/esm/index.js');
  if (newestMtime('lib') > built) run('scripts/build.mjs');
  if (Math.max(newestMtime('sample', ['dist']), mtime('dist/esm/index.js')) > mtime('sample/dist/main.js')) {
    run('node_modules/typescript/bin/tsc', '-p', 'sample/tsconfig.json');
  }
}

function mtime(path) {
  return existsSync(join(ROOT, path)) ? statSync(join(ROOT, path)).mtimeMs : 0;
}

function newestMtime(dir, skip = []) {
  const files = readdirSync(join(ROOT, dir), { recursive: true }).filter(
    (file) => !skip.some((s) => file.startsWith(s)),
  );
  return Math.max(...files.map((file) => mtime(join(dir, file))));
}

/** The nginx site of docs/deploy.md, filled in. Throws when the doc no longer shows the template as it is. */
async function renderNginxSite(values) {
  const template = await readFile(NGINX_TEMPLATE, 'utf8');
  const doc = await readFile(DEPLOY_DOC, 'utf8');
  if (!doc.includes('```nginx\n' + template + '```')) {
    throw new Error('docs/deploy.md must show scripts/demo-cluster.nginx.conf verbatim in an nginx block');
  }
  return template.replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (values[name] === undefined) throw new Error(`nginx template: no value for {{${name}}}`);
    return String(values[name]);
  });
}

/**
 * Starts the topology. `jwtTtlSec`: lifetime of the emulator's JWTs. `cookiePrefix`: of the auth cookie names
 * (`__Host-` by default; `''` for the unprefixed defaults). `log(source, line)` receives every child's output.
 */
export async function startCluster({ jwtTtlSec = 60, cookiePrefix = '__Host-', log = () => {} } = {}) {
  const cluster = new Cluster(await mkdtemp(join(tmpdir(), 'crossmint-cluster-')), log);
  try {
    await cluster.start({ jwtTtlSec, cookiePrefix });
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

class Cluster {
  /** `https://app.example.test:<port>`: reach it through `chromiumArgs` (the name resolves nowhere else). */
  url = '';
  siblingUrl = '';
  /** @type {CrossmintAuthEmulator | undefined} */
  emulator;
  /** @type {{ id: string, port: number, process: ChildHandle }[]} */
  instances = [];
  /** @type {{ port: number, process: ChildHandle } | undefined} */
  redis;
  /** @type {ChildHandle | undefined} */
  nginx;
  /** @type {import('node:http').Server | undefined} */
  devSessions;
  /** The self-signed certificate (PEM) nginx serves for both host names. */
  certFile = '';

  constructor(dir, log) {
    this.dir = dir;
    this.log = log;
  }

  /** Chromium flags: both host names on 127.0.0.1, and the self-signed certificate accepted. */
  get chromiumArgs() {
    return [
      `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1, MAP ${SIBLING_HOST} 127.0.0.1`,
      '--ignore-certificate-errors',
    ];
  }

  async start({ jwtTtlSec, cookiePrefix }) {
    const cert = this.makeCertificate();
    this.certFile = cert.cert;
    this.emulator = await CrossmintAuthEmulator.start({ jwtTtlSec });
    const devSessionsUrl = await this.serveDevSessions();
    await this.startRedis(await freePort());
    const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
    await Promise.all(
      ports.map((port, index) => this.startInstance(`app-${index + 1}`, port, { devSessionsUrl, cookiePrefix })),
    );
    const httpsPort = await freePort();
    this.url = `https://${APP_HOST}:${httpsPort}`;
    this.siblingUrl = `https://${SIBLING_HOST}:${httpsPort}`;
    await this.startNginx(httpsPort, ports, cert);
  }

  /** SIGKILL on an instance: a crash, mid-flight. */
  killInstance(index) {
    return this.instances[index].process.kill('SIGKILL');
  }

  /** Kills redis-server (SIGKILL), runs `whileDown`, and starts a fresh, empty one on the same port. */
  async restartRedis(whileDown = async () => {}) {
    await this.redis.process.kill('SIGKILL');
    await whileDown();
    await this.startRedis(this.redis.port);
  }

  async stop() {
    const children = [this.nginx, ...this.instances.map((instance) => instance.process), this.redis?.process];
    await Promise.all(children.map((child) => child?.kill('SIGTERM')));
    await new Promise((resolve) => (this.devSessions ? this.devSessions.close(resolve) : resolve()));
    await this.emulator?.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Last resort on process exit: synchronous, so it works in an `exit` handler. */
  killNow() {
    for (const child of [this.nginx, ...this.instances.map((instance) => instance.process), this.redis?.process]) {
      child?.killNow();
    }
  }

  makeCertificate() {
    const cert = join(this.dir, 'tls.crt');
    const key = join(this.dir, 'tls.key');
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${APP_HOST}`, '-addext', `subjectAltName=DNS:${APP_HOST},DNS:${SIBLING_HOST}`,
      '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    return { cert, key };
  }

  /** The dev sign-in of every instance asks this for a session, so that all of them share one emulator. */
  async serveDevSessions() {
    this.devSessions = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', async () => {
        try {
          const { email } = JSON.parse(body);
          const session = await this.emulator.createSession({ email: String(email) });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(session));
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise((resolve) => this.devSessions.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${this.devSessions.address().port}/sessions`;
  }

  async startRedis(port) {
    // prettier-ignore
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--maxmemory-policy', 'noeviction', '--timeout', '0', '--tcp-keepalive', '60',
    ];
    const child = this.spawn('redis', 'redis-server', args);
    await child.waitForPort(port);
    this.redis = { port, process: child };
  }

  async startInstance(id, port, { devSessionsUrl, cookiePrefix }) {
    const env = {
      ...process.env,
      PORT: String(port),
      INSTANCE_ID: id,
      CROSSMINT_API_KEY: this.emulator.apiKey,
      CROSSMINT_BASE_URL: this.emulator.baseUrl,
      DEV_SESSIONS_URL: devSessionsUrl,
      REDIS_URL: `redis://127.0.0.1:${this.redis.port}`,
      TRUST_PROXY: 'loopback',
      CROSSMINT_COOKIE_PREFIX: cookiePrefix,
    };
    const child = this.spawn(id, process.execPath, [join(ROOT, 'sample/dist/main.js')], { env });
    this.instances.push({ id, port, process: child });
    await child.waitForPort(port);
  }

  async startNginx(httpsPort, appPorts, { cert, key }) {
    const site = await renderNginxSite({
      LISTEN: `127.0.0.1:${httpsPort}`,
      APP_HOST,
      CERT: cert,
      CERT_KEY: key,
      APP_PORT_1: appPorts[0],
      APP_PORT_2: appPorts[1],
      APP_PORT_3: appPorts[2],
    });
    const conf = join(this.dir, 'nginx.conf');
    await writeFile(conf, nginxConf(this.dir, site, { listen: `127.0.0.1:${httpsPort}`, cert, key }));
    this.nginx = this.spawn('nginx', NGINX, ['-p', this.dir, '-c', conf, '-e', 'stderr']);
    await this.nginx.waitForPort(httpsPort);
  }

  spawn(name, command, args, options = {}) {
    return new ChildHandle(name, spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] }), this.log);
  }
}

/** nginx in the foreground as one process (no workers to drop privileges to), every path in `dir`; the app's site, plus the sibling site. */
function nginxConf(dir, site, { listen, cert, key }) {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${site}
# A sibling site (a test fixture): /toss sets unprefixed auth cookies for the whole parent domain.
server {
    listen ${listen} ssl;
    server_name ${SIBLING_HOST};
    ssl_certificate ${cert};
    ssl_certificate_key ${key};

    location = /toss {
        add_header Set-Cookie "crossmint-jwt=$arg_jwt; Domain=.example.test; Path=/; Secure; SameSite=Lax";
        add_header Set-Cookie "crossmint-refresh-token=$arg_refresh; Domain=.example.test; Path=/; Secure; SameSite=Lax";
        default_type text/html;
        return 200 "<h1>A sibling subdomain</h1>";
    }
}
}
`;
}

/** A child process whose output goes to `log` (its tail kept for error messages). */
class ChildHandle {
  output = '';

  constructor(name, child, log) {
    this.name = name;
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    child.once('error', (error) => (this.output += `\n${error.message}`));
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        this.output = (this.output + chunk).slice(-4000);
        for (const line of chunk.split('\n')) if (line.trim()) log(name, line);
      });
    }
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `port` accepts connections; rejects if the process exits first or takes too long. */
  async waitForPort(port) {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await canConnect(port))) {
      if (!this.running) throw new Error(`${this.name} exited before listening on ${port}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not listening on ${port} in time:\n${this.output}`);
      await sleep(50);
    }
  }

  /** Sends `signal`, then SIGKILL after 5 s; resolves when the process is gone. */
  async kill(signal) {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  killNow() {
    if (this.running) this.child.kill('SIGKILL');
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
