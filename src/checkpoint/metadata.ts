import type { Readable } from 'node:stream';
import { FatchartError } from '../errors.js';
import { listArchive, type ArchiveCompression, type ArchiveListing } from './archive.js';
import { cgroupVersion, coreArchitecture, decodeMessage, imageEntries, inventoryFacts } from './criu-image.js';
import { normaliseArch, type CheckpointFacts } from './facts.js';

/**
 * Which file of a checkpoint archive says what. The layout is the one Podman (`podman container
 * checkpoint --export`), CRI-O (kubelet checkpoint API) and checkpointctl share: JSON metadata at
 * the top, CRIU's images under `checkpoint/`. A bare CRIU image directory (images at the top) is
 * read too. fatchart's own Docker captures use the same layout and add `fatchart-host.json`, the
 * host facts no CRIU image records (kernel, CRIU and runtime versions, cgroup version).
 */
export const HOST_FILE = 'fatchart-host.json';
export const ENGINE_CONFIG_FILE = 'docker-inspect.json';
export const CRIU_DIR = 'checkpoint';

/** The host facts a capturing tool knows and a CRIU dump does not keep. */
export type HostFacts = Pick<
  CheckpointFacts,
  'engine' | 'engineVersion' | 'runtime' | 'runtimeVersion' | 'criuVersion' | 'kernelVersion' | 'cgroupVersion' | 'architecture'
>;

const metadataFiles = new Set(['config.dump', 'spec.dump', 'network.status', 'stats-dump', HOST_FILE]);
/** JSON metadata beside the images; a bare image directory has none of these among its images. */
const topLevelJson = new Set(['config.dump', 'spec.dump', 'network.status', HOST_FILE, ENGINE_CONFIG_FILE]);
const factImage = /^(checkpoint\/)?(inventory\.img|cgroup\.img|core-\d+\.img|stats-dump)$/;

export const isFactFile = (path: string) => metadataFiles.has(path) || factImage.test(path);

/** Field spellings differ between checkpointctl's config.dump and Podman's libpod config. */
const configAliases = {
  id: ['id'],
  name: ['name'],
  imageDigestRef: ['rootfsImage'],
  imageId: ['rootfsImageRef', 'rootfsImageID'],
  image: ['rootfsImageName', 'rawImageName', 'RawImageName'],
  runtime: ['runtime', 'ociRuntime'],
  checkpointedAt: ['checkpointedTime'],
} as const;

export interface ParsedCheckpoint {
  facts: CheckpointFacts;
  compression: ArchiveCompression;
}

/** Reads a checkpoint archive stream once and returns its recorded facts. */
export async function readCheckpointFacts(src: Readable, subject: string, fallbackName?: string): Promise<ParsedCheckpoint> {
  const listing = await listArchive(src, isFactFile, subject);
  return { facts: factsFromListing(listing, subject, fallbackName), compression: listing.compression };
}

export function factsFromListing(listing: ArchiveListing, subject: string, fallbackName?: string): CheckpointFacts {
  const { files, contents } = listing;
  const prefix = [...files.keys()].some((p) => p.startsWith(`${CRIU_DIR}/`)) ? `${CRIU_DIR}/` : '';
  const json = (name: string): Record<string, unknown> | undefined => {
    const buf = contents.get(name);
    if (!buf) return undefined;
    try {
      const v: unknown = JSON.parse(buf.toString('utf8'));
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch (err) {
      throw new FatchartError('verification', `${name} is not valid JSON: ${(err as Error).message}`, { subject });
    }
  };
  const image = (name: string) => contents.get(prefix + name);
  if (!image('inventory.img')) {
    throw new FatchartError('verification', `no CRIU inventory.img (looked under "${prefix || './'}")`, { subject });
  }
  const critical = <T>(what: string, read: () => T): T => {
    try {
      return read();
    } catch (err) {
      throw new FatchartError('verification', `${what}: ${(err as Error).message}`, { subject, cause: err });
    }
  };

  const host = (json(HOST_FILE) ?? {}) as HostFacts;
  const config = json('config.dump') ?? {};
  const annotations = ((json('spec.dump') ?? {}).annotations ?? {}) as Record<string, string>;
  const pick = (keys: readonly string[]) => {
    for (const k of keys) if (typeof config[k] === 'string' && config[k] !== '') return config[k] as string;
    return undefined;
  };

  const inventory = critical('inventory.img', () => inventoryFacts(image('inventory.img')!));
  const coreName = [...contents.keys()].find((p) => p.startsWith(prefix) && /core-\d+\.img$/.test(p));
  const imageArch = coreName ? critical(coreName, () => coreArchitecture(contents.get(coreName)!)) : undefined;
  const cgroup = image('cgroup.img');
  const imageCgroup = cgroup ? critical('cgroup.img', () => cgroupVersion(cgroup)) : undefined;
  const statsBuf = contents.get('stats-dump') ?? image('stats-dump');

  const digestRef = pick(configAliases.imageDigestRef);
  const criuFiles = [...files].filter(([p]) => p.startsWith(prefix) && !(prefix === '' && topLevelJson.has(p)));
  const kubeContainer = annotations['io.kubernetes.container.name'];

  const facts: CheckpointFacts = {
    container: kubeContainer ?? pick(configAliases.name) ?? fallbackName ?? subject,
    containerId: pick(configAliases.id),
    pod: annotations['io.kubernetes.pod.name'],
    namespace: annotations['io.kubernetes.pod.namespace'],
    image: pick(configAliases.image),
    imageDigest: digestRef?.includes('@') ? digestRef.slice(digestRef.indexOf('@') + 1) : undefined,
    imageId: pick(configAliases.imageId),
    engine: host.engine ?? annotations['io.container.manager'],
    engineVersion: host.engineVersion,
    runtime: host.runtime ?? pick(configAliases.runtime),
    runtimeVersion: host.runtimeVersion,
    criuVersion: host.criuVersion,
    kernelVersion: host.kernelVersion,
    // The host's word wins: a hybrid v1/v2 host's dump names v1 controllers either way.
    cgroupVersion: host.cgroupVersion ?? imageCgroup,
    architecture: imageArch ?? (host.architecture ? normaliseArch(host.architecture) : undefined),
    checkpointedAt: pick(configAliases.checkpointedAt),
    // CRIU writes a tcp-stream image per established connection it dumped (--tcp-established).
    tcpEstablished: criuFiles.some(([p]) => /(^|\/)tcp-stream-[0-9a-f]+\.img$/.test(p)),
    rootfsDiff: files.has('rootfs-diff.tar'),
    lsm: inventory.lsm,
    criuImages: {
      files: criuFiles.length,
      bytes: criuFiles.reduce((n, [, size]) => n + size, 0),
      pageBytes: criuFiles.filter(([p]) => /(^|\/)pages-\d+\.img$/.test(p)).reduce((n, [, size]) => n + size, 0),
    },
    dumpStats: statsBuf ? critical('stats-dump', () => dumpStats(statsBuf)) : undefined,
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as CheckpointFacts;
}

/** stats_entry.dump (1) → dump_stats_entry: frozen_time (2), pages_written (7). */
function dumpStats(buf: Buffer): CheckpointFacts['dumpStats'] {
  const entry = imageEntries(buf)[0];
  const dump = entry && decodeMessage(entry).find((f) => f.no === 1)?.value;
  if (!Buffer.isBuffer(dump)) return undefined;
  const f = decodeMessage(dump);
  const num = (no: number) => {
    const v = f.find((x) => x.no === no)?.value;
    return typeof v === 'number' ? v : undefined;
  };
  return { frozenTimeMicros: num(2), pagesWritten: num(7) };
}
