import type { Readable } from 'node:stream';
import type { KubeObject } from '../../../model/object.js';
import type { VolumeSource } from '../../../model/volume.js';
import type { RunContext } from '../../../util/context.js';
import { usageError } from '../../../errors.js';
import type { KubeClient } from '../client.js';
import { execStream } from './exec.js';
import { attachedNode, defaultMoverImage, Mover, moverMount } from './mover.js';
import { consistencyOf, parseQuiesce, Quiescer } from './quiesce.js';
import { claimImages } from './images.js';
import { claimUsers, listPods, type ClaimUsers } from './workloads.js';

export interface VolumeCaptureOptions {
  namespace: string;
  /** `--quiesce none|scale|hooks` (default none: crash-consistent). */
  quiesce?: string;
  moverImage?: string;
  /** Movers started ahead of the volume being streamed (see README: the archive is sequential). */
  parallel?: number;
  /** Only these claims (by name); default all. */
  only?: string[];
  /** The app's objects: their containers' images are the mover's fallback (see images.ts). */
  appObjects?: readonly KubeObject[];
}

export interface VolumeCapture {
  volumes: VolumeSource[];
  /** Deletes every mover and resumes every quiesced workload; never throws. */
  release(): Promise<void>;
}

/** The command whose stdout is the volume: a POSIX tar of the mount, paths relative to it. */
export const packCommand = ['tar', '-C', moverMount, '-cf', '-', '.'];

/**
 * Turns the app's claims into bundle volume sources. Nothing starts here: a volume's mover pod
 * is started (and its writers quiesced) when the bundle writer opens it, plus up to
 * `parallel - 1` movers ahead so their start-up overlaps with the streaming.
 */
export async function captureVolumes(client: KubeClient, claims: readonly KubeObject[], o: VolumeCaptureOptions, ctx: RunContext): Promise<VolumeCapture> {
  const mode = parseQuiesce(o.quiesce);
  const parallel = Math.max(1, o.parallel ?? 1);
  const image = o.moverImage ?? defaultMoverImage;
  const selected = claims.filter((c) => c.kind === 'PersistentVolumeClaim' && (!o.only || o.only.includes(c.metadata.name)));
  for (const name of o.only ?? []) if (!selected.some((c) => c.metadata.name === name)) throw usageError(`the app has no claim ${name}`, '--only-volume');

  const pods = await listPods(client, o.namespace);
  const users = new Map<string, ClaimUsers>();
  for (const c of selected) users.set(c.metadata.name, await claimUsers(client, o.namespace, c.metadata.name, pods));
  const quiescer = new Quiescer(client, client.config, o.namespace, mode, ctx);
  const movers = new Map<string, Promise<Mover>>();
  let released = false;
  /** Movers being deleted and post hooks running after a finished stream; release() awaits them. */
  const finishing: Promise<void>[] = [];

  const moverFor = (claim: KubeObject): Promise<Mover> => {
    let m = movers.get(claim.metadata.name);
    if (!m) {
      m = (async () => {
        await quiescer.before(claim.metadata.name, users.get(claim.metadata.name)!);
        // Placement after quiescing: scaled-down writers no longer pin the claim to a node.
        const node = attachedNode(claim, await listPods(client, o.namespace));
        const fallbackImages = claimImages([...users.get(claim.metadata.name)!.pods, ...(o.appObjects ?? [])], claim.metadata.name);
        return Mover.start(client, { namespace: o.namespace, claim: claim.metadata.name, image, fallbackImages, readOnly: true, node }, ctx);
      })();
      m.catch(() => {});
      movers.set(claim.metadata.name, m);
    }
    return m;
  };
  const finish = async (claim: KubeObject) => {
    const m = movers.get(claim.metadata.name);
    movers.delete(claim.metadata.name);
    await m?.then((x) => x.delete(), () => {});
    await quiescer.after(users.get(claim.metadata.name)!);
  };

  const volumes = selected.map((claim, i): VolumeSource => {
    const name = claim.metadata.name;
    const { consistency, warning } = consistencyOf(mode, users.get(name)!);
    if (warning) ctx.log.warn(`claim ${name} is copied crash-consistent: ${warning}`);
    const spec = (claim as any).spec ?? {};
    return {
      name,
      consistency,
      claim: {
        storageClassName: spec.storageClassName,
        accessModes: spec.accessModes,
        requested: spec.resources?.requests?.storage,
      },
      async open(): Promise<Readable> {
        if (released) throw new Error('the capture was released');
        for (const next of selected.slice(i + 1, i + parallel)) void moverFor(next);
        const mover = await moverFor(claim);
        const stream = await execStream(client.config, mover.ref, packCommand, `volume ${name}`, ctx.signal);
        // The mover stays for a retry until the stream succeeded; release() deletes it otherwise.
        stream.once('end', () => finishing.push(finish(claim).catch((err) => ctx.log.warn(`after volume ${name}: ${(err as Error).message}`))));
        return stream;
      },
    };
  });

  return {
    volumes,
    async release() {
      released = true;
      await Promise.all(finishing);
      const pending = [...movers.values()];
      movers.clear();
      await Promise.all(pending.map((m) => m.then((x) => x.delete(), () => {})));
      await quiescer.release();
    },
  };
}
