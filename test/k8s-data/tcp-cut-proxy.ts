/**
 * A TCP proxy in front of the real API server that cuts a connection once it has carried a
 * number of bytes towards the client: the way a WebSocket exec stream breaks mid-transfer when
 * a load balancer or network drops it. TLS passes through untouched (the client still verifies
 * the real server), which is why this is a TCP proxy: the HTTP fault proxy of the k8s suite does
 * not carry WebSocket upgrades. Only streams longer than `cutAfter` are affected, so ordinary
 * API requests pass.
 */
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

export class CutProxy {
  /** Connections cut so far. */
  cuts = 0;
  private left: number;
  private sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly cutAfter: number,
    times: number,
  ) {
    this.left = times;
  }

  static async start(upstream: { host: string; port: number }, cutAfter: number, times: number): Promise<CutProxy> {
    const server = net.createServer();
    const proxy = new CutProxy(server, cutAfter, times);
    server.on('connection', (client) => {
      const up = net.connect(upstream.port, upstream.host);
      proxy.sockets.add(client).add(up);
      let down = 0;
      up.on('data', (chunk: Buffer) => {
        down += chunk.length;
        if (down > proxy.cutAfter && proxy.left > 0) {
          proxy.left--;
          proxy.cuts++;
          client.destroy();
          up.destroy();
          return;
        }
        client.write(chunk);
      });
      // Half-closes pass through in order, so a stream's last frames are never lost by the proxy.
      up.on('end', () => client.end());
      client.pipe(up);
      const close = () => {
        client.destroy();
        up.destroy();
      };
      up.on('error', close);
      client.on('error', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** The kubeconfig's current server as host and port. */
export function upstreamOf(kubeconfig: string): { host: string; port: number } {
  const url = new URL(serverOf(kubeconfig));
  return { host: url.hostname, port: Number(url.port || 443) };
}

function serverOf(kubeconfig: string): string {
  const config = yaml.load(readFileSync(kubeconfig, 'utf8')) as any;
  const current = config.contexts.find((c: any) => c.name === config['current-context']);
  return config.clusters.find((c: any) => c.name === current.context.cluster).cluster.server;
}

/** A copy of the kubeconfig whose current cluster is reached through 127.0.0.1:port (same TLS). */
export function kubeconfigThrough(kubeconfig: string, port: number, dir: string): string {
  const config = yaml.load(readFileSync(kubeconfig, 'utf8')) as any;
  const current = config.contexts.find((c: any) => c.name === config['current-context']);
  const cluster = config.clusters.find((c: any) => c.name === current.context.cluster);
  const url = new URL(cluster.cluster.server);
  url.port = String(port);
  cluster.cluster.server = url.toString().replace(/\/$/, '');
  const path = join(dir, 'kubeconfig-cut');
  writeFileSync(path, yaml.dump(config));
  return path;
}
