/**
 * --quiesce on a real engine: pause freezes writers and stop stops them while the copy runs, and
 * the containers always come back — after a failed copy, an aborted one, or a quiesce that
 * failed half-way.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineClient, type Engine } from '../../src/platforms/compose/engine/client.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE } from '../../src/platforms/compose/engine/labels.js';
import { inspectProject, type ProjectContainer } from '../../src/platforms/compose/engine/project.js';
import { quiesce, withQuiesce } from '../../src/platforms/compose/engine/quiesce.js';
import { volumeTar } from '../../src/platforms/compose/engine/volume-source.js';
import { dockerProbe, startDocker } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { uniqueName } from './engine-helpers.js';

const haveDocker = await needs('Docker Engine', dockerProbe);

describe.skipIf(!haveDocker)('quiesce a running project on a real Docker Engine', () => {
  let engine: Engine;
  const project = uniqueName('fctq');
  const volume = `${project}_log`;

  beforeAll(async () => {
    const docker = await startDocker();
    engine = engineClient(docker.host);
    await engine.createVolume({ Name: volume, Labels: { [COMPOSE_PROJECT]: project } });
    // Two writers appending to the same volume ten times a second: any copy taken while they run
    // differs from the next one.
    for (const service of ['writer-a', 'writer-b']) {
      const c = await engine.createContainer({
        Image: docker.image,
        name: `${project}-${service}`,
        Cmd: ['sh', '-c', `while true; do date +%s%N >> /v/${service}.log; sleep 0.1; done`],
        Labels: { [COMPOSE_PROJECT]: project, [COMPOSE_SERVICE]: service },
        StopSignal: 'SIGKILL',
        HostConfig: { Binds: [`${volume}:/v`], NetworkMode: 'none' },
      });
      await c.start();
    }
  });

  afterAll(async () => {
    if (!engine) return;
    for (const c of await engine.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT}=${project}`] } })) {
      await engine.getContainer(c.Id).remove({ force: true });
    }
    await engine.getVolume(volume).remove().catch(() => {});
  });

  const containers = async () => (await inspectProject(engine, project)).containers;
  const states = async () => (await containers()).map((c) => c.state);
  const digest = async () => {
    const h = createHash('sha256');
    for await (const chunk of await volumeTar(engine, volume)) h.update(chunk as Buffer);
    return h.digest('hex');
  };

  it('finds the project by its label, with the volume both containers mount', async () => {
    const state = await inspectProject(engine, project);
    expect(state.containers.map((c) => c.service)).toEqual(['writer-a', 'writer-b']);
    expect(state.volumes).toEqual([
      expect.objectContaining({ kind: 'volume', source: volume, users: [expect.objectContaining({ service: 'writer-a', target: '/v' }), expect.objectContaining({ service: 'writer-b', target: '/v' })] }),
    ]);
  });

  for (const mode of ['pause', 'stop'] as const) {
    it(`${mode}: the data holds still during the copy, and a failed copy still resumes`, async () => {
      await expect(
        withQuiesce(engine, await containers(), mode, async (q) => {
          expect(q.consistency).toBe(`quiesce-${mode}`);
          expect(await states()).toEqual(mode === 'pause' ? ['paused', 'paused'] : ['exited', 'exited']);
          const first = await digest();
          await new Promise((r) => setTimeout(r, 400));
          expect(await digest()).toBe(first);
          throw new Error('copy broke');
        }),
      ).rejects.toThrow('copy broke');
      expect(await states()).toEqual(['running', 'running']);
      // And they write again.
      const before = await digest();
      await new Promise((r) => setTimeout(r, 400));
      expect(await digest()).not.toBe(before);
    });
  }

  it('resumes when the copy is aborted by a signal', async () => {
    const abort = new AbortController();
    const copy = withQuiesce(engine, await containers(), 'pause', async () => {
      await new Promise((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason)));
    });
    setTimeout(() => abort.abort(new Error('interrupted')), 200);
    await expect(copy).rejects.toThrow('interrupted');
    expect(await states()).toEqual(['running', 'running']);
  });

  it('resumes the containers already paused when pausing another one fails', async () => {
    const real = await containers();
    const ghost: ProjectContainer = { id: 'f'.repeat(64), name: 'ghost', service: 'ghost', image: 'x', state: 'running', created: 0 };
    // Pausing goes newest first, so both real containers are paused before the ghost fails.
    await expect(quiesce(engine, [ghost, ...real], 'pause')).rejects.toMatchObject({ code: 'platform', subject: 'ghost' });
    expect(await states()).toEqual(['running', 'running']);
  });

  it('none copies crash-consistent and changes nothing; resume is idempotent', async () => {
    const q = await quiesce(engine, await containers(), 'none');
    expect(q.consistency).toBe('crash-consistent');
    const p = await quiesce(engine, await containers(), 'pause');
    await p.resume();
    await p.resume();
    expect(await states()).toEqual(['running', 'running']);
  });
});
