import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { FatchartError, platformError } from '../../errors.js';

/**
 * A thin REST client over the API server. Authentication, TLS and contexts come from
 * @kubernetes/client-node's KubeConfig (so kubeconfig files, exec plugins, tokens and client
 * certificates behave as with kubectl); requests are plain REST because the driver works on
 * arbitrary discovered resources, dry runs and server-side apply, which the generated typed
 * clients do not cover uniformly.
 */
export interface ClientOptions {
  kubeconfig?: string;
  context?: string;
  /** Retries for throttling (429), server errors (5xx) and dropped connections. */
  retries?: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  contentType?: string;
  /** Treat 404 as a value (undefined) instead of an error. */
  allow404?: boolean;
  signal?: AbortSignal;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Statuses worth retrying: throttled or a transient server failure. */
const retryable = new Set([429, 500, 502, 503, 504]);

export class KubeClient {
  readonly config: KubeConfig;
  readonly server: string;
  readonly contextName: string;
  private readonly retries: number;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions = {}) {
    const kc = new KubeConfig();
    try {
      if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
      else kc.loadFromDefault();
      if (options.context) kc.setCurrentContext(options.context);
    } catch (err) {
      throw platformError(`cannot load kubeconfig: ${(err as Error).message}`, options.kubeconfig ?? 'kubeconfig', err);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw platformError('no current cluster in the kubeconfig', options.context ?? 'kubeconfig');
    this.config = kc;
    this.server = cluster.server.replace(/\/+$/, '');
    this.contextName = kc.getCurrentContext();
    this.retries = options.retries ?? 5;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get<T = any>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request('GET', path, options);
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    let attempt = 0;
    for (;;) {
      try {
        return await this.once<T>(method, path, options);
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 0;
        const transient = status === 0 || retryable.has(status);
        if (!transient || attempt >= this.retries || options.signal?.aborted) throw this.wrap(method, path, err);
        const delay = err instanceof ApiError && err.retryAfter !== undefined ? err.retryAfter * 1000 : 200 * 2 ** attempt;
        attempt++;
        await sleep(Math.min(delay, 10_000));
      }
    }
  }

  private wrap(method: string, path: string, err: unknown): Error {
    if (err instanceof ApiError) return err;
    return platformError(`${method} ${path} failed: ${(err as Error).message}`, this.server, err);
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.config.applyToHTTPSOptions(opts);
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers = opts.headers as Record<string, string>;
    if (body) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(url, { ...opts, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 404 && options.allow404) return resolve(undefined as T);
          if (status >= 200 && status < 300) {
            try {
              return resolve((text ? JSON.parse(text) : undefined) as T);
            } catch (err) {
              return reject(new Error(`invalid JSON from the API server: ${(err as Error).message}`));
            }
          }
          let message = text.slice(0, 300);
          let reason: string | undefined;
          try {
            const s = JSON.parse(text);
            message = s.message ?? message;
            reason = s.reason;
          } catch {
            /* not a Status object */
          }
          const ra = Number(res.headers['retry-after']);
          reject(new ApiError(status, `${method} ${url.pathname}: ${status} ${message}`, reason, Number.isFinite(ra) ? ra : undefined));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Turns an API failure into the one-line FatchartError the CLI prints. */
export function apiFailure(err: unknown, subject: string): FatchartError {
  if (err instanceof FatchartError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return platformError(message, subject, err);
}
