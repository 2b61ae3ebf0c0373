import { randomBytes } from 'node:crypto';
import { FatchartError, platformError } from '../../../errors.js';
import type { RunContext } from '../../../util/context.js';
import { ApiError, sleep, type KubeClient } from '../client.js';
import type { PodRef } from './exec.js';

/**
 * The mover: a short-lived pod in the app's namespace that mounts one claim at /data (read-only
 * to pack, read-write to restore) and idles until fatchart execs `tar`/`sha256sum` in it. Any
 * image with `sh`, `tar`, `find`, `stat`, `sha256sum` and `readlink` works (busybox, Debian,
 * UBI, often the app's own image).
 */
export const defaultMoverImage = 'docker.io/library/busybox:1.36';
export const moverLabel = 'fatchart.io/mover';
export const moverMount = '/data';
const container = 'mover';
/** A leaked mover (fatchart killed hard) stops by itself after this. */
const deadlineSeconds = 6 * 3600;

export interface MoverOptions {
  namespace: string;
  claim: string;
  image: string;
  /** Tried in order when `image` cannot be pulled (the app's own images, see images.ts). */
  fallbackImages?: string[];
  readOnly: boolean;
  /** Node the claim is attached to (ReadWriteOnce claims in use); undefined lets the scheduler pick. */
  node?: string;
  startTimeoutMs?: number;
}

/** Container states that will not get better by waiting. */
const hopeless = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);
const pullFailures = new Set(['ErrImagePull', 'ImagePullBackOff']);

class PullFailure extends FatchartError {}

export function moverManifest(name: string, o: MoverOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace,
      labels: { [moverLabel]: 'true', 'app.kubernetes.io/managed-by': 'fatchart' },
      annotations: { 'fatchart.io/claim': o.claim },
    },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      activeDeadlineSeconds: deadlineSeconds,
      automountServiceAccountToken: false,
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [
        {
          name: container,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          // PID 1 ignores SIGTERM unless it traps it; exit at once so deletes are quick.
          command: ['sh', '-c', 'trap "exit 0" TERM INT; while true; do sleep 1; done'],
          volumeMounts: [{ name: 'data', mountPath: moverMount, readOnly: o.readOnly }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: o.claim, readOnly: o.readOnly } }],
    },
  };
}

export function moverName(claim: string): string {
  return `fatchart-mover-${claim.slice(0, 40).replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** A running mover; `delete()` is idempotent and never throws. */
export class Mover {
  private deleted = false;
  private constructor(
    private readonly client: KubeClient,
    readonly ref: PodRef,
  ) {}

  /**
   * `name` lets a caller journal the pod before it exists (see moverName); a fallback image
   * reuses it, the pod of the failed image being deleted first.
   */
  static async start(client: KubeClient, o: MoverOptions, ctx: RunContext, name = moverName(o.claim)): Promise<Mover> {
    const images = [o.image, ...(o.fallbackImages ?? []).filter((i) => i !== o.image)];
    for (const [i, image] of images.entries()) {
      const mover = new Mover(client, { namespace: o.namespace, pod: name, container });
      try {
        await client.request('POST', `/api/v1/namespaces/${o.namespace}/pods`, { body: moverManifest(name, { ...o, image }) });
      } catch (err) {
        throw platformError(`cannot create the mover pod: ${(err as Error).message}`, `PersistentVolumeClaim/${o.claim}`, err);
      }
      ctx.log.debug(`mover ${name} (${image}) for claim ${o.claim}${o.node ? ` on node ${o.node}` : ''}`);
      try {
        await mover.waitRunning({ ...o, image }, ctx);
        return mover;
      } catch (err) {
        await mover.delete(true);
        if (!(err instanceof PullFailure) || i === images.length - 1) throw err;
        ctx.log.warn(`mover image ${image} cannot be pulled; trying the app's own image ${images[i + 1]}`);
      }
    }
    throw new Error('unreachable: no mover image');
  }

  private async waitRunning(o: MoverOptions, ctx: RunContext): Promise<void> {
    const deadline = Date.now() + (o.startTimeoutMs ?? 180_000);
    const subject = `PersistentVolumeClaim/${o.claim}`;
    let last = '';
    for (;;) {
      if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted while starting the mover pod', { subject });
      const pod = await this.client.get(this.path, { allow404: true });
      if (!pod) throw platformError(`mover pod ${this.ref.pod} disappeared while starting`, subject);
      const state = pod.status?.containerStatuses?.[0]?.state ?? {};
      if (pod.status?.phase === 'Running' && state.running) return;
      const waiting = state.waiting?.reason as string | undefined;
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || (waiting && hopeless.has(waiting))) {
        const detail = state.waiting?.message ?? state.terminated?.reason ?? pod.status?.reason ?? pod.status?.phase;
        if (waiting && pullFailures.has(waiting)) throw new PullFailure('platform', `mover image ${o.image} cannot be pulled: ${detail}; choose one the nodes can pull with --mover-image`, { subject });
        throw platformError(`mover pod ${this.ref.pod} (image ${o.image}) cannot run: ${waiting ?? pod.status?.phase}: ${detail}; choose an image the nodes can run with --mover-image`, subject);
      }
      last = waiting ?? pod.status?.conditions?.find((c: any) => c.status === 'False')?.message ?? pod.status?.phase ?? 'Pending';
      if (Date.now() > deadline) throw platformError(`mover pod ${this.ref.pod} not running after ${Math.round((o.startTimeoutMs ?? 180_000) / 1000)}s: ${last}`, subject);
      await sleep(500, ctx.signal);
    }
  }

  private get path(): string {
    return `/api/v1/namespaces/${this.ref.namespace}/pods/${this.ref.pod}`;
  }

  /** `wait`: until the pod is gone, so its name can be reused. */
  async delete(wait = false): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    try {
      await this.client.request('DELETE', this.path, { query: { gracePeriodSeconds: '0' }, allow404: true });
      for (let i = 0; wait && i < 120 && (await this.client.get(this.path, { allow404: true })); i++) await sleep(500);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) process.emitWarning(`could not delete mover pod ${this.ref.pod}: ${(err as Error).message}`);
    }
  }
}

/** The node where a running pod of the namespace mounts the claim (ReadWriteOnce attach point). */
export function attachedNode(claim: any, pods: any[]): string | undefined {
  const modes: string[] = claim.spec?.accessModes ?? [];
  if (!modes.includes('ReadWriteOnce') && !modes.includes('ReadWriteOncePod')) return undefined;
  const user = pods.find((p) => p.spec?.nodeName && p.status?.phase === 'Running' && mountsClaim(p, claim.metadata.name));
  return user?.spec.nodeName;
}

export function mountsClaim(pod: any, claim: string): boolean {
  return (pod.spec?.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === claim);
}
