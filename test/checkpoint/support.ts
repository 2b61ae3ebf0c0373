import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { Probe } from '../support/require.js';
import { criuVersion } from '../../src/checkpoint/criu.js';

const run = promisify(execFile);

/** Probe: a CRIU that passes `criu check` (see ../shared/tools/criu/criu-build). */
export const criuProbe: Probe = async () => {
  if (!(await criuVersion())) return 'criu is not on PATH (eval "$(../shared/tools/criu/criu-build)")';
  try {
    await run(process.env.FATCHART_CRIU ?? 'criu', ['check'], { timeout: 30_000 });
    return undefined;
  } catch (err) {
    return `criu check fails: ${String((err as { stderr?: string }).stderr ?? err).trim().split('\n').pop()}`;
  }
};

/** A shell counter printing 1, 2, 3, … once per interval: what a checkpoint must carry on. */
export const COUNTER = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.5; done'];

/** The numbers the counter printed so far in this container. */
export async function counted(container: Docker.Container): Promise<number[]> {
  const raw = (await container.logs({ stdout: true, stderr: false, follow: false })) as Buffer;
  return demux(raw).split('\n').filter(Boolean).map(Number);
}

/** Non-TTY logs and exec output are multiplexed: an 8-byte frame header before each chunk. */
export function demux(raw: Buffer): string {
  const text: string[] = [];
  for (let pos = 0; pos + 8 <= raw.length; ) {
    const len = raw.readUInt32BE(pos + 4);
    text.push(raw.subarray(pos + 8, pos + 8 + len).toString('utf8'));
    pos += 8 + len;
  }
  return text.join('');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
