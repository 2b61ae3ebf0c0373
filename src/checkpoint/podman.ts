import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { HashingStream } from '../bundle/digest.js';
import { FatchartError } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { criuVersion, dirtyTracking } from './criu.js';
import { normaliseArch } from './facts.js';
import { readCheckpointFacts, type HostFacts } from './metadata.js';
import type { CheckpointFile } from './slot.js';

const run = promisify(execFile);

/**
 * Podman through its CLI: `podman container checkpoint --export` writes the archive (zstd by
 * default) that is stored in the bundle exactly as exported, and `podman container restore
 * --import` restores it. `globalArgs` select the store (`--root`, `--runroot`) or a remote
 * connection. Containers must have been started with finite nofile/nproc ulimits where root
 * lacks CAP_SYS_RESOURCE (CRIU cannot raise them back on restore).
 */
export interface PodmanHost {
  globalArgs?: string[];
}

async function podman(host: PodmanHost, args: string[], subject: string): Promise<string> {
  try {
    const { stdout } = await run('podman', [...(host.globalArgs ?? []), ...args], { maxBuffer: 64 << 20, timeout: 600_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown; message: string };
    if (e.code === 'ENOENT') throw new FatchartError('platform', 'podman is not installed', { subject, cause: err });
    const line = (e.stderr ?? e.message).trim().split('\n').filter(Boolean).pop() ?? e.message;
    throw new FatchartError('platform', `podman ${args[0]} ${args[1] ?? ''}: ${line}`, { subject, cause: err });
  }
}

/** Podman's own words for its host; the archive does not record these. */
export async function podmanHostFacts(host: PodmanHost): Promise<HostFacts> {
  const info = JSON.parse(await podman(host, ['info', '--format', 'json'], 'podman info')) as {
    host: { kernel: string; arch: string; cgroupVersion: string; ociRuntime: { name: string; version: string } };
    version: { Version: string };
  };
  return {
    engine: 'libpod',
    engineVersion: info.version.Version,
    runtime: info.host.ociRuntime.name,
    runtimeVersion: /version\s+(\S+)/.exec(info.host.ociRuntime.version)?.[1],
    criuVersion: await criuVersion(),
    kernelVersion: info.host.kernel,
    cgroupVersion: info.host.cgroupVersion.replace(/^v/, '') === '2' ? '2' : '1',
    architecture: normaliseArch(info.host.arch),
  };
}

export interface PodmanCheckpointOptions {
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  preDump?: boolean;
  workDir?: string;
}

export async function capturePodmanCheckpoint(
  host: PodmanHost,
  container: string,
  options: PodmanCheckpointOptions,
  ctx: RunContext,
): Promise<CheckpointFile & { dispose(): Promise<void> }> {
  const subject = `container ${container}`;
  const tracking = await dirtyTracking();
  if (options.preDump && !tracking.available) {
    throw new FatchartError('preflight', `incremental (pre-dump) checkpoints need memory dirty tracking, unavailable here: ${tracking.reason}`, { subject });
  }
  const hostFacts = await podmanHostFacts(host);
  const work = await mkdtemp(join(options.workDir ?? tmpdir(), 'fatchart-podman-'));
  const dispose = () => rm(work, { recursive: true, force: true });
  try {
    const file = join(work, `${container}.tar.zst`);
    const started = Date.now();
    await podman(
      host,
      [
        'container', 'checkpoint', '--export', file, '--compress', 'zstd',
        ...(options.leaveRunning === false ? [] : ['--leave-running']),
        ...(options.tcpEstablished ? ['--tcp-established'] : []),
        container,
      ],
      subject,
    );
    const checkpointedAt = new Date().toISOString();
    ctx.log.info(`${container}: checkpoint exported in ${Date.now() - started} ms`);
    const hashing = new HashingStream();
    const [{ facts, compression }] = await Promise.all([readCheckpointFacts(hashing, file, container), pipeline(createReadStream(file), hashing)]);
    // The export does not state the host's versions; what Podman says now fills those gaps.
    const merged = { checkpointedAt, ...hostFacts, ...facts };
    return { container: facts.container, file, size: (await stat(file)).size, sha256: hashing.digest(), compression, facts: merged, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

export async function restorePodmanCheckpoint(
  host: PodmanHost,
  archive: Readable,
  subject: string,
  options: { name?: string; tcpEstablished?: boolean; settleMs?: number },
  ctx: RunContext,
): Promise<{ containerId: string; name?: string }> {
  const work = await mkdtemp(join(tmpdir(), 'fatchart-podman-restore-'));
  try {
    // `--import` takes a file; the bundle's verified stream is written out first.
    const file = join(work, 'checkpoint.tar');
    await pipeline(archive, createWriteStream(file));
    const started = Date.now();
    const id = (
      await podman(
        host,
        ['container', 'restore', '--import', file, ...(options.name ? ['--name', options.name] : []), ...(options.tcpEstablished ? ['--tcp-established'] : [])],
        subject,
      )
    )
      .trim()
      .split('\n')
      .pop()!;
    await new Promise((r) => setTimeout(r, options.settleMs ?? 1000));
    const running = (await podman(host, ['inspect', '--format', '{{.State.Running}}', id], subject)).trim();
    if (running !== 'true') {
      await podman(host, ['rm', '-f', id], subject).catch(() => '');
      throw new FatchartError('platform', 'restored process is not running', { subject });
    }
    ctx.log.info(`${options.name ?? id}: restored from checkpoint in ${Date.now() - started} ms`);
    return { containerId: id, name: options.name };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
