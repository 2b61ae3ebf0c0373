import { createReadStream } from 'node:fs';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { dockerHostFacts } from '../../src/checkpoint/docker.js';
import type { CheckpointFacts } from '../../src/checkpoint/facts.js';
import { readCheckpointFacts } from '../../src/checkpoint/metadata.js';
import { checkCompatibility, planCheckpointRestore } from '../../src/checkpoint/preflight.js';
import { quietContext } from '../../src/util/context.js';
import { dockerProbe, startDocker } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { buildArchive, haveFixtures } from './fixtures.js';

const base: CheckpointFacts = {
  container: 'web',
  engine: 'docker',
  runtime: 'runc',
  architecture: 'x86_64',
  cgroupVersion: '1',
  criuVersion: '4.1.1',
  kernelVersion: '6.18.44-fc-v669',
  tcpEstablished: false,
  rootfsDiff: false,
  criuImages: { files: 1, bytes: 1, pageBytes: 0 },
};
const host = { engine: 'docker', runtime: 'runc', architecture: 'x86_64', cgroupVersion: '1' as const, criuVersion: '4.1.1', kernelVersion: '6.18.44-fc-v669' };

describe('checkpoint compatibility rules', () => {
  it('accepts an equal target and a newer CRIU and kernel', () => {
    expect(checkCompatibility(base, host).compatible).toBe(true);
    expect(checkCompatibility(base, { ...host, criuVersion: '4.2.1', kernelVersion: '6.19.0' }).compatible).toBe(true);
  });

  it('names each differing fact, with the needed version for older targets', () => {
    const r = checkCompatibility(base, { ...host, kernelVersion: '6.1.0-28-amd64', cgroupVersion: '2', architecture: 'aarch64' });
    expect(r.differences.map((d) => d.fact)).toEqual(['architecture', 'cgroupVersion', 'kernelVersion']);
    expect(() => planCheckpointRestore([{ container: 'web', facts: base }], { ...host, criuVersion: '3.17' }, 'refuse', quietContext())).toThrow(
      /checkpoint web: cannot restore on this target: CRIU version differs: recorded 4\.1\.1, target 3\.17 \(needs 4\.1\.1 or newer\)/,
    );
  });

  it('reports facts the archive does not record instead of guessing them', () => {
    const { kernelVersion: _k, criuVersion: _c, ...partial } = base;
    const r = checkCompatibility(partial as CheckpointFacts, host);
    expect(r.compatible).toBe(true);
    expect(r.unknown).toEqual(['CRIU version (not recorded)', 'kernel version (not recorded)']);
  });

  it('normalises Go architecture names', () => {
    expect(checkCompatibility(base, { ...host, architecture: 'amd64' }).compatible).toBe(true);
  });
});

const live = await needs('checkpoint pre-flight against a real engine', haveFixtures, dockerProbe);

describe.skipIf(!live)('checkpoint pre-flight against a real Docker Engine', () => {
  it('refuses a real aarch64 CRI-O checkpoint on this engine, or plans a cold start with the fallback', async () => {
    const file = await buildArchive('cri-o', 'gzip');
    const { facts } = await readCheckpointFacts(createReadStream(file), file);
    const target = await dockerHostFacts({ docker: new Docker({ socketPath: (await startDocker()).socketPath }) });
    expect(target.architecture).not.toBe('aarch64');
    expect(() => planCheckpointRestore([{ container: facts.container, facts }], target, 'refuse', quietContext())).toThrow(
      new RegExp(`checkpoint container-name: cannot restore on this target: CPU architecture differs: recorded aarch64, target ${target.architecture}; container engine differs: recorded cri-o, target docker`),
    );
    const warnings: string[] = [];
    const ctx = { ...quietContext(), log: { info() {}, debug() {}, warn: (m: string) => warnings.push(m) } };
    expect(planCheckpointRestore([{ container: facts.container, facts }], target, 'cold', ctx)).toEqual([
      expect.objectContaining({ container: 'container-name', action: 'cold', reason: expect.stringContaining('CPU architecture differs') }),
    ]);
    expect(warnings.join('\n')).toMatch(/starting it cold from its image and volume data/);
  });
});
