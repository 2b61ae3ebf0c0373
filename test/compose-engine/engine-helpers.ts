import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Engine } from '../../src/platforms/compose/engine/client.js';

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Runs a shell script in a throw-away busybox container with the given volume mounts; returns stdout. */
export async function runScript(engine: Engine, image: string, binds: string[], script: string): Promise<string> {
  const container = await engine.createContainer({
    Image: image,
    Cmd: ['sh', '-euc', script],
    HostConfig: { Binds: binds, NetworkMode: 'none' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    const text = demux(logs);
    if (StatusCode !== 0) throw new Error(`script failed (${StatusCode}): ${text.stderr}`);
    return text.stdout;
  } finally {
    await container.remove({ force: true });
  }
}

/** Splits the engine's multiplexed log stream (8-byte frame headers) into stdout and stderr. */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    (buf[i] === 2 ? err : out).push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * A listing of a mounted folder made inside a container by busybox itself (not by the code under
 * test): type, mode, owner, size, mtime, link target and sha256 of every entry, sorted.
 */
export const listingScript = (dir: string) => `cd ${dir} && find . | sort | while read -r p; do
  if [ -L "$p" ]; then echo "$p link $(stat -c '%a %u:%g %Y' "$p") -> $(readlink "$p")";
  elif [ -d "$p" ]; then echo "$p dir $(stat -c '%a %u:%g %Y' "$p")";
  else echo "$p file $(stat -c '%a %u:%g %s %Y %h' "$p") $(sha256sum "$p" | cut -d' ' -f1)"; fi
done`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
