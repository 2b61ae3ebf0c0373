/**
 * Real CNCF distribution registries (Debian's `docker-registry`) on 127.0.0.1 random ports, with
 * filesystem storage and config in a temp folder, optionally behind htpasswd basic auth. Tests
 * start them in beforeAll and stop them in afterAll; nothing outlives the test file.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandProbe, type Probe } from '../require.js';

export const registryProbes: Probe[] = [commandProbe('docker-registry', ['--version'])];
export const htpasswdProbe: Probe = commandProbe('htpasswd', ['-nbB', 'probe', 'probe']);

export interface RegistryInstance {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** The filesystem storage root (`docker/registry/v2/blobs/sha256/<2>/<hex>/data`). */
  storage: string;
  /** Every line the registry logged (access log included). */
  log: string[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: { username: string; password: string };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUp(host: string, child: ChildProcess, log: string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log.slice(-5).join('\n')}`);
    const up = await fetch(`http://${host}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry on ${host} did not come up: ${log.slice(-5).join('\n')}`);
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'fatchart-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let auth = '';
  if (options.auth) {
    const line = execFileSync('htpasswd', ['-nbB', options.auth.username, options.auth.password], { encoding: 'utf8' }).trim();
    await writeFile(join(dir, 'htpasswd'), `${line}\n`);
    auth = `auth:\n  htpasswd:\n    realm: fatchart-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    `  secret: test-${port}`,
    auth,
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const collect = (buf: Buffer) => log.push(...buf.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  try {
    await waitUp(host, child, log);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    storage: join(dir, 'data'),
    log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A pass-through HTTP proxy in front of a real registry that records each request's method and
 * path, so a test can count what a client actually sent (e.g. that a re-push uploads nothing).
 */
export interface CountingProxy {
  host: string;
  requests: Array<{ method: string; path: string }>;
  stop(): Promise<void>;
}

export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const [upHost, upPort] = upstream.split(':');
  const requests: CountingProxy['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, path: req.url! });
    const forward = httpRequest(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } },
      (up) => {
        const headers = { ...up.headers };
        // Upload sessions are addressed by absolute URLs naming the upstream; keep the client here.
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${upstream}`, `//${proxyHost}`);
        res.writeHead(up.statusCode!, headers);
        up.pipe(res);
      },
    );
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host: proxyHost,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
