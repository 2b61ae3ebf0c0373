import Docker from 'dockerode';
import { platformError } from '../../../errors.js';

export type Engine = Docker;

/**
 * A Docker Engine API client for `host` (`unix:///path.sock`, `tcp://h:p`), else `DOCKER_HOST`,
 * else the default socket. Only a connection object: nothing is contacted until first use.
 */
export function engineClient(host: string | undefined = process.env.DOCKER_HOST): Engine {
  if (!host) return new Docker({ socketPath: '/var/run/docker.sock' });
  const url = new URL(host);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' });
  }
  throw platformError(`unsupported Docker host address (use unix:// or tcp://)`, host);
}

/** `Docker 20.10.24` for the manifest's source block; fails with a platform error when unreachable. */
export async function engineVersion(engine: Engine): Promise<string> {
  try {
    const v = await engine.version();
    return `Docker ${v.Version}`;
  } catch (err) {
    throw platformError(`cannot reach the Docker Engine: ${(err as Error).message}`, describeEngine(engine), err);
  }
}

export function describeEngine(engine: Engine): string {
  const o = engine.modem as unknown as { socketPath?: string; host?: string; port?: number };
  return o.socketPath ? `unix://${o.socketPath}` : `tcp://${o.host}:${o.port}`;
}
