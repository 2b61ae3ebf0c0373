/**
 * A fault-injecting HTTP proxy in front of a real API server (or any HTTPS server): plain HTTP
 * on 127.0.0.1 towards the client, TLS towards the upstream. Rules decide per request whether
 * to answer with a status (429 + Retry-After, 500, 403...), drop the connection, or delay;
 * everything else is forwarded untouched, so the server stays the real one.
 *
 *   const proxy = await FaultProxy.start('https://127.0.0.1:6443');
 *   proxy.inject({ match: (r) => r.method === 'PATCH' && r.nth === 3, action: { type: 'status', status: 500 } });
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** 1-based index among the requests with this method since start or reset(). */
  nth: number;
}

export type FaultAction =
  | { type: 'status'; status: number; retryAfter?: number; message?: string }
  | { type: 'drop' }
  | { type: 'delay'; ms: number };

export interface FaultRule {
  match: (r: ProxiedRequest) => boolean;
  action: FaultAction;
  /** How many matching requests get the fault (default: all). */
  times?: number;
}

export class FaultProxy {
  readonly log: Array<ProxiedRequest & { fault?: string }> = [];
  private rules: Array<FaultRule & { left: number }> = [];
  private counts = new Map<string, number>();

  private constructor(
    private readonly server: http.Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(upstream));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? Infinity });
  }

  /** Forgets rules, counters and the log. */
  reset(): void {
    this.rules = [];
    this.counts.clear();
    this.log.length = 0;
  }

  /** Faults actually injected so far. */
  get injected(): string[] {
    return this.log.flatMap((r) => (r.fault ? [`${r.method} ${r.path}: ${r.fault}`] : []));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? 'GET';
    const nth = (this.counts.get(method) ?? 0) + 1;
    this.counts.set(method, nth);
    const info: ProxiedRequest = { method, path: req.url ?? '/', nth };
    const rule = this.rules.find((r) => r.left > 0 && r.match(info));
    const entry: ProxiedRequest & { fault?: string } = { ...info };
    this.log.push(entry);
    if (rule) {
      rule.left--;
      const a = rule.action;
      entry.fault = a.type === 'status' ? String(a.status) : a.type === 'delay' ? `delay ${a.ms}ms` : 'drop';
      if (a.type === 'drop') {
        req.socket.destroy();
        return;
      }
      if (a.type === 'status') {
        req.resume();
        const body = JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: a.message ?? `injected by fault proxy (${a.status})`,
          reason: a.status === 429 ? 'TooManyRequests' : 'InternalError',
          code: a.status,
        });
        res.writeHead(a.status, {
          'Content-Type': 'application/json',
          ...(a.retryAfter !== undefined ? { 'Retry-After': String(a.retryAfter) } : {}),
        });
        res.end(body);
        return;
      }
      setTimeout(() => this.forward(req, res), a.ms);
      return;
    }
    this.forward(req, res);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const up = https.request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: this.upstream.host },
        // Test-only proxy to 127.0.0.1: the lab's own CA is not worth plumbing through here.
        rejectUnauthorized: false,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}
