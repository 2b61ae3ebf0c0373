/**
 * Real CNCF distribution registries (Debian's `docker-registry`) on 127.0.0.1 random ports, with
 * filesystem storage and config in a temp folder, optionally behind htpasswd basic auth. Tests
 * start them in beforeAll and stop them in afterAll; nothing outlives the test file.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  /** htpasswd basic auth with this one user. */
  auth?: { username: string; password: string };
  /** Token auth: the registry sends clients to this realm and trusts tokens signed by `certFile`'s key. */
  token?: { realm: string; service: string; issuer: string; certFile: string };
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
  if (options.token) {
    const t = options.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certFile}\n`;
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

/**
 * A token server for the registry's `auth: token` mode, which Debian ships no server for: it
 * checks Basic credentials and answers a JWT signed (RS256) with a throw-away key whose
 * self-signed certificate the registry is configured to trust (`x5c` header). The registry itself
 * validates the signature, issuer, audience, expiry and granted actions, so the client's Bearer
 * flow is tested against the real thing end to end.
 */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** The `scope` of every token request, in order. */
  scopes: string[];
  stop(): Promise<void>;
}

export async function startTokenServer(user: { username: string; password: string }): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fatchart-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=fatchart-test-token', '-days', '1', '-keyout', keyFile, '-out', certFile], {
    stdio: 'ignore',
  });
  const key = createPrivateKey(await readFile(keyFile));
  const certDer = new X509Certificate(await readFile(certFile)).raw.toString('base64');
  const service = 'fatchart-test-registry';
  const issuer = 'fatchart-test-issuer';
  const scopes: string[] = [];
  const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
  const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://token');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    scopes.push(scope);
    const access = scope
      .split(' ')
      .filter(Boolean)
      .map((s) => {
        const [type, name, actions] = s.split(':');
        return { type, name, actions: actions.split(',') };
      });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = { iss: issuer, sub: user.username, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: `${now}-${scopes.length}`, access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signing}.${b64url(sign('sha256', Buffer.from(signing), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    certFile,
    scopes,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
