import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { platformError, verificationError } from '../errors.js';
import type { Credential, CredentialLookup } from './credentials.js';
import { readSmall, sha256Digest } from './digest.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './media.js';
import { apiHost } from './ref.js';

/**
 * A client for one registry over the OCI distribution API, on Node's own fetch. HTTPS always,
 * except plain HTTP for loopback hosts (as Docker does) and hosts the user named insecure.
 * Auth follows the registry's `WWW-Authenticate` challenge: Basic sends the credential on every
 * request; Bearer exchanges it at the challenge's realm for a token scoped to one repository.
 */
export interface ClientOptions {
  credentials?: CredentialLookup;
  /** Hosts (`host` or `host:port`) to reach over plain HTTP. */
  insecureRegistries?: string[];
  /** Blobs larger than this go up in PATCH chunks of this size; otherwise one streamed PUT. */
  chunkSize?: number;
  signal?: AbortSignal;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

type Scope = 'pull' | 'pull,push';

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/;

export function usesPlainHttp(host: string, insecure: string[] = []): boolean {
  const bare = host.replace(/:\d+$/, '');
  return LOOPBACK.test(host) || insecure.includes(host) || insecure.includes(bare);
}

function parseChallenge(header: string | null): Challenge | undefined {
  const m = header && /^\s*(basic|bearer)\b(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
  return { scheme: m[1].toLowerCase() as Challenge['scheme'], params };
}

async function registryMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? [];
    if (errors.length) return errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
  } catch {
    // Not the distribution error shape: fall back to the status line.
  }
  return `${res.status} ${res.statusText}`.trim();
}

export class RegistryClient {
  readonly base: string;
  /** undefined: not asked yet; null: the registry wants no auth. */
  private challenge: Challenge | null | undefined;
  private readonly tokens = new Map<string, string>();
  private credential: Promise<Credential | undefined> | undefined;

  constructor(
    readonly registry: string,
    private readonly options: ClientOptions = {},
  ) {
    const host = apiHost(registry);
    this.base = `${usesPlainHttp(host, options.insecureRegistries) ? 'http' : 'https'}://${host}`;
  }

  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const subject = `${this.registry}/${repo}:${reference}`;
    const res = await this.send('GET', repo, `/v2/${repo}/manifests/${reference}`, 'pull', { headers: { accept: MANIFEST_ACCEPT } });
    await this.expect(res, [200], subject);
    const bytes = await readSmall(Readable.fromWeb(res.body as never), MAX_MANIFEST_BYTES, subject);
    const digest = sha256Digest(bytes);
    // A manifest asked for by digest must hash to it; one asked for by tag must match what the
    // registry says it served, so a proxy cannot swap it on the way.
    const expected = reference.startsWith('sha256:') ? reference : res.headers.get('docker-content-digest');
    if (expected && expected !== digest) throw verificationError(`manifest is ${digest}, registry says ${expected}`, subject);
    const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
    const mediaType = declared ?? res.headers.get('content-type')?.split(';')[0] ?? '';
    return { bytes, mediaType, digest };
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.send('HEAD', repo, `/v2/${repo}/blobs/${digest}`, 'pull,push');
    if (res.status === 404) return false;
    await this.expect(res, [200], `${this.registry}/${repo}@${digest}`);
    return true;
  }

  /** The blob's bytes as the registry sends them; callers verify (see digest.ts). */
  async openBlob(repo: string, digest: string): Promise<Readable> {
    const res = await this.send('GET', repo, `/v2/${repo}/blobs/${digest}`, 'pull');
    await this.expect(res, [200], `${this.registry}/${repo}@${digest}`);
    return Readable.fromWeb(res.body as never);
  }

  /**
   * Uploads one blob: a single streamed PUT, or PATCH chunks when it exceeds `chunkSize`. With
   * `mountFrom` (another repository of this registry known to hold the blob) the registry is first
   * asked to link it across, which uploads nothing; it answers 202 and an ordinary upload session
   * when it will not. Returns whether the bytes were actually sent.
   */
  async uploadBlob(repo: string, digest: string, size: number, open: () => Promise<Readable>, mountFrom?: string): Promise<'uploaded' | 'mounted'> {
    const subject = `${this.registry}/${repo}@${digest}`;
    const query = mountFrom ? `?${new URLSearchParams({ mount: digest, from: mountFrom })}` : '';
    const started = await this.send('POST', repo, `/v2/${repo}/blobs/uploads/${query}`, 'pull,push');
    await this.expect(started, [201, 202], subject);
    if (started.status === 201) {
      await started.body?.cancel();
      return 'mounted';
    }
    await started.body?.cancel();
    let location = this.location(started, subject);
    // Opened only once the session exists, so no stream sits half-read while auth is sorted out.
    const content = await open();
    const chunkSize = this.options.chunkSize;
    if (chunkSize && size > chunkSize) {
      let offset = 0;
      for await (const chunk of rechunk(content, chunkSize)) {
        const res = await this.send('PATCH', repo, location, 'pull,push', {
          body: chunk,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${offset + chunk.length - 1}`,
          },
        });
        await this.expect(res, [202], subject);
        await res.body?.cancel();
        offset += chunk.length;
        location = this.location(res, subject);
      }
      const done = await this.send('PUT', repo, withDigest(location, digest), 'pull,push');
      await this.expect(done, [201], subject);
      await done.body?.cancel();
      return 'uploaded';
    }
    const res = await this.send('PUT', repo, withDigest(location, digest), 'pull,push', {
      body: content,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    await this.expect(res, [201], subject);
    await res.body?.cancel();
    return 'uploaded';
  }

  async putManifest(repo: string, reference: string, mediaType: string, bytes: Buffer): Promise<void> {
    const res = await this.send('PUT', repo, `/v2/${repo}/manifests/${reference}`, 'pull,push', {
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    await this.expect(res, [201], `${this.registry}/${repo}:${reference}`);
    await res.body?.cancel();
  }

  private location(res: Response, subject: string): string {
    const location = res.headers.get('location');
    if (!location) throw platformError('upload response carries no Location', subject);
    return new URL(location, this.base).toString();
  }

  private async expect(res: Response, ok: number[], subject: string): Promise<void> {
    if (ok.includes(res.status)) return;
    const why = await registryMessage(res);
    throw platformError(`registry answered ${res.status}: ${why}`, subject);
  }

  private async send(
    method: string,
    repo: string,
    path: string,
    scope: Scope,
    init: { headers?: Record<string, string>; body?: Buffer | Readable } = {},
  ): Promise<Response> {
    if (this.challenge === undefined) await this.ping();
    const url = new URL(path, this.base).toString();
    const attempt = async () => {
      const auth = await this.authorization(repo, scope);
      const headers = { ...init.headers, ...(auth ? { authorization: auth } : {}) };
      if (init.body instanceof Readable) return this.streamUpload(url, method, headers, init.body);
      return this.fetch(url, { method, body: init.body, headers });
    };
    const res = await attempt();
    // A 401 here means a token expired or the scope grew; a stream body cannot be sent twice.
    if (res.status === 401 && !(init.body instanceof Readable)) {
      await res.body?.cancel();
      this.challenge = parseChallenge(res.headers.get('www-authenticate')) ?? null;
      this.tokens.clear();
      return attempt();
    }
    return res;
  }

  /**
   * Sends a streamed body with node:http(s), which pauses the source whenever the socket is full.
   * Node 20's fetch does not: it drained a whole layer into memory before sending it (measured:
   * RSS grew by the layer's size).
   */
  private streamUpload(url: string, method: string, headers: Record<string, string>, body: Readable): Promise<Response> {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let bodyError: Error | undefined;
      // A source that fails (a blob failing its digest check) is that failure, not a network one.
      const fail = (err: Error) => reject(bodyError ?? platformError(`cannot reach registry: ${err.message}`, this.registry, err));
      const req = send(url, { method, headers, signal: this.options.signal }, (res) => {
        const status = res.statusCode ?? 0;
        const nullBody = status === 204 || status === 304;
        if (nullBody) res.resume();
        const responseHeaders = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream), { status, headers: responseHeaders }));
      });
      req.on('error', fail);
      body.on('error', (err) => {
        bodyError = err;
        req.destroy(err);
      });
      body.pipe(req);
    });
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: this.options.signal });
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw platformError(`cannot reach registry: ${cause}`, this.registry, err);
    }
  }

  /** `GET /v2/` tells which auth the registry wants before any body has to be sent. */
  private async ping(): Promise<void> {
    const res = await this.fetch(new URL('/v2/', this.base).toString(), { method: 'GET' });
    await res.body?.cancel();
    this.challenge = res.status === 401 ? (parseChallenge(res.headers.get('www-authenticate')) ?? null) : null;
  }

  private async authorization(repo: string, scope: Scope): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    this.credential ??= this.options.credentials?.(this.registry) ?? Promise.resolve(undefined);
    const cred = await this.credential;
    if (this.challenge.scheme === 'basic') {
      if (!cred?.username) throw platformError('registry asks for a login and no credentials were found', this.registry);
      return `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
    }
    const key = `repository:${repo}:${scope}`;
    let token = this.tokens.get(key);
    if (!token) {
      token = await this.fetchToken(key, cred);
      this.tokens.set(key, token);
    }
    return `Bearer ${token}`;
  }

  private async fetchToken(scope: string, cred: Credential | undefined): Promise<string> {
    const { realm, service } = this.challenge!.params;
    if (!realm) throw platformError('Bearer challenge names no realm', this.registry);
    const url = new URL(realm);
    let res: Response;
    if (cred?.identityToken) {
      // Docker's identity tokens are OAuth2 refresh tokens: exchanged by POST, not sent as Basic.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, scope, client_id: 'fatchart' });
      if (service) form.set('service', service);
      res = await this.fetch(url.toString(), { method: 'POST', body: form });
    } else {
      if (service) url.searchParams.set('service', service);
      url.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (cred?.username) headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
      res = await this.fetch(url.toString(), { method: 'GET', headers });
    }
    if (res.status !== 200) throw platformError(`token endpoint answered ${res.status}: ${await registryMessage(res)}`, realm);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw platformError('token endpoint returned no token', realm);
    return token;
  }
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Regroups a stream into buffers of exactly `size` bytes (the last one shorter). */
async function* rechunk(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    let buf = chunk as Buffer;
    while (held + buf.length >= size) {
      const take = size - held;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      buf = buf.subarray(take);
      pending = [];
      held = 0;
    }
    if (buf.length) {
      pending.push(buf);
      held += buf.length;
    }
  }
  if (held) yield Buffer.concat(pending);
}
