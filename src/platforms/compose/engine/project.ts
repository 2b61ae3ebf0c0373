import { platformError } from '../../../errors.js';
import type { Engine } from './client.js';
import { COMPOSE_ONEOFF, COMPOSE_SERVICE, COMPOSE_VOLUME, projectFilter } from './labels.js';

/** Where a container mounts a volume or host path. */
export interface MountUse {
  container: string;
  service: string;
  target: string;
  readOnly: boolean;
}

export interface ProjectContainer {
  id: string;
  name: string;
  service: string;
  image: string;
  /** Engine state: running, paused, exited, created, … */
  state: string;
  /** Seconds since the epoch; Compose creates containers in dependency order. */
  created: number;
}

export interface ProjectVolume {
  kind: 'volume' | 'bind';
  /** Engine volume name (`shop_data`) or absolute host path of a bind mount. */
  source: string;
  /** The volume's key in the compose file (`data`) when Compose created it; absent for binds and external volumes. */
  composeName?: string;
  /** Engine volume driver (`local`); absent for binds. */
  driver?: string;
  users: MountUse[];
}

export interface ProjectState {
  project: string;
  containers: ProjectContainer[];
  volumes: ProjectVolume[];
}

/**
 * Everything the engine knows about a Compose project: its containers (by the project label, one-off
 * `run` containers excluded) and every volume and bind mount they actually have — which can differ
 * from the compose file (external volumes, anonymous volumes, edited files) — plus the project's
 * named volumes that no container mounts right now.
 */
export async function inspectProject(engine: Engine, project: string): Promise<ProjectState> {
  let list;
  let volumeList;
  try {
    list = await engine.listContainers({ all: true, filters: projectFilter(project) });
    volumeList = await engine.listVolumes({ filters: projectFilter(project) });
  } catch (err) {
    throw platformError(`cannot list the project's containers and volumes: ${(err as Error).message}`, `compose project ${project}`, err);
  }
  const containers: ProjectContainer[] = [];
  const volumes = new Map<string, ProjectVolume>();
  const volumeKey = (kind: ProjectVolume['kind'], source: string) => `${kind}:${source}`;

  for (const v of volumeList.Volumes ?? []) {
    volumes.set(volumeKey('volume', v.Name), {
      kind: 'volume',
      source: v.Name,
      composeName: v.Labels?.[COMPOSE_VOLUME],
      driver: v.Driver,
      users: [],
    });
  }
  for (const c of list) {
    if (c.Labels?.[COMPOSE_ONEOFF] === 'True') continue;
    const service = c.Labels?.[COMPOSE_SERVICE] ?? '';
    const name = (c.Names?.[0] ?? c.Id).replace(/^\//, '');
    containers.push({ id: c.Id, name, service, image: c.Image, state: c.State, created: c.Created });
    for (const m of c.Mounts ?? []) {
      if (m.Type !== 'volume' && m.Type !== 'bind') continue;
      const kind = m.Type;
      const source = kind === 'volume' ? (m.Name as string) : m.Source;
      const key = volumeKey(kind, source);
      let vol = volumes.get(key);
      if (!vol) {
        vol = { kind, source, driver: kind === 'volume' ? m.Driver : undefined, users: [] };
        volumes.set(key, vol);
      }
      vol.users.push({ container: name, service, target: m.Destination, readOnly: !m.RW });
    }
  }
  containers.sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
  const sorted = [...volumes.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.source.localeCompare(b.source));
  for (const v of sorted) v.users.sort((a, b) => a.container.localeCompare(b.container) || a.target.localeCompare(b.target));
  return { project, containers, volumes: sorted };
}

/** The named volumes only (what `--source compose` streams from the engine). */
export async function listProjectVolumes(engine: Engine, project: string): Promise<ProjectVolume[]> {
  return (await inspectProject(engine, project)).volumes.filter((v) => v.kind === 'volume');
}

/** True when the engine has any container, volume or network carrying the project label. */
export async function projectExists(engine: Engine, project: string): Promise<boolean> {
  const [c, v, n] = await Promise.all([
    engine.listContainers({ all: true, filters: projectFilter(project) }),
    engine.listVolumes({ filters: projectFilter(project) }),
    engine.listNetworks({ filters: projectFilter(project) }),
  ]);
  return c.length + (v.Volumes?.length ?? 0) + n.length > 0;
}
