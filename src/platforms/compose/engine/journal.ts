import { randomBytes } from 'node:crypto';
import type { Engine } from './client.js';
import { CREATED_BY_LABEL, projectFilter } from './labels.js';

type Entry = { kind: 'volume'; name: string } | { kind: 'container'; id: string } | { kind: 'network'; id: string } | { kind: 'project'; name: string };

/**
 * What one unpack created on the engine, so a failure can take exactly that back and nothing
 * else. Resources are also labelled with the run id (CREATED_BY_LABEL) for a human to find.
 * A `project` entry stands for whatever Compose creates for it (containers, networks, its own
 * volumes): an unpack only starts a project that did not exist before (see projectExists).
 */
export class EngineJournal {
  readonly runId = `unpack-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  private readonly entries: Entry[] = [];

  constructor(private readonly engine: Engine) {}

  get labels(): Record<string, string> {
    return { [CREATED_BY_LABEL]: this.runId };
  }

  volume(name: string): void {
    this.entries.push({ kind: 'volume', name });
  }
  container(id: string): void {
    this.entries.push({ kind: 'container', id });
  }
  network(id: string): void {
    this.entries.push({ kind: 'network', id });
  }
  project(name: string): void {
    this.entries.push({ kind: 'project', name });
  }

  /** The unpack succeeded: forget everything, nothing will be removed. */
  commit(): void {
    this.entries.length = 0;
  }

  /**
   * Removes everything recorded, newest first; containers before the volumes and networks they
   * use. Keeps going past failures and returns them (the caller is already reporting an error).
   */
  async rollback(): Promise<string[]> {
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) failures.push(`${what}: ${(err as Error).message}`);
      }
    };
    const e = this.engine;
    const entries = this.entries.splice(0).reverse();
    for (const entry of entries) {
      if (entry.kind === 'container') await attempt(`container ${entry.id}`, () => e.getContainer(entry.id).remove({ force: true, v: true }));
      if (entry.kind === 'project') {
        for (const c of await e.listContainers({ all: true, filters: projectFilter(entry.name) })) {
          await attempt(`container ${c.Id}`, () => e.getContainer(c.Id).remove({ force: true, v: true }));
        }
      }
    }
    for (const entry of entries) {
      if (entry.kind === 'network') await attempt(`network ${entry.id}`, () => e.getNetwork(entry.id).remove());
      if (entry.kind === 'project') {
        for (const n of await e.listNetworks({ filters: projectFilter(entry.name) })) {
          await attempt(`network ${n.Name}`, () => e.getNetwork(n.Id).remove());
        }
        for (const v of (await e.listVolumes({ filters: projectFilter(entry.name) })).Volumes ?? []) {
          await attempt(`volume ${v.Name}`, () => e.getVolume(v.Name).remove());
        }
      }
      if (entry.kind === 'volume') await attempt(`volume ${entry.name}`, () => e.getVolume(entry.name).remove());
    }
    return failures;
  }
}
