import type { KubeConfig } from '@kubernetes/client-node';
import type { Consistency } from '../../../model/volume.js';
import { FatchartError, platformError, usageError } from '../../../errors.js';
import type { RunContext } from '../../../util/context.js';
import { sleep, type KubeClient } from '../client.js';
import { execText } from './exec.js';
import { listPods, type ClaimUsers, type Workload } from './workloads.js';
import { mountsClaim } from './mover.js';

/**
 * How writers are kept from changing a claim while it is copied (`--quiesce`):
 *  - scale: owning workloads go to zero replicas before their first claim is copied and back to
 *    their count when the pack ends, failed or not (and the count is kept in the
 *    `fatchart.io/quiesced-replicas` annotation, so a pack killed hard can be undone by hand);
 *  - hooks: commands declared on the pods, Velero style, run before and after the copy
 *    (`pre.hook.fatchart.io/command`, `post.hook.fatchart.io/command`, a JSON array or a shell line;
 *    `…/container` picks the container, default the first);
 *  - none: copied while running (crash-consistent).
 */
export const quiesceModes = ['none', 'scale', 'hooks'] as const;
export type QuiesceMode = (typeof quiesceModes)[number];
export const replicasAnnotation = 'fatchart.io/quiesced-replicas';
export const hookAnnotations = {
  pre: { command: 'pre.hook.fatchart.io/command', container: 'pre.hook.fatchart.io/container' },
  post: { command: 'post.hook.fatchart.io/command', container: 'post.hook.fatchart.io/container' },
} as const;

export function parseQuiesce(value: string | undefined): QuiesceMode {
  const mode = (value ?? 'none') as QuiesceMode;
  if (!quiesceModes.includes(mode)) throw usageError(`--quiesce for Kubernetes must be one of ${quiesceModes.join(', ')}`, '--quiesce');
  return mode;
}

/** The consistency a claim's copy will have under `mode`, and why when it is weaker than asked. */
export function consistencyOf(mode: QuiesceMode, users: ClaimUsers): { consistency: Consistency; warning?: string } {
  if (mode === 'none') return { consistency: 'crash-consistent' };
  if (users.pods.length === 0) return { consistency: 'offline' };
  if (mode === 'scale') {
    if (users.unscalable.length) return { consistency: 'crash-consistent', warning: `pod(s) ${users.unscalable.join(', ')} belong to no scalable workload and keep writing` };
    return { consistency: 'quiesce-scale' };
  }
  const without = users.pods.filter((p) => !p.metadata.annotations?.[hookAnnotations.pre.command]);
  if (without.length) return { consistency: 'crash-consistent', warning: `pod(s) ${without.map((p) => p.metadata.name).join(', ')} declare no ${hookAnnotations.pre.command}` };
  return { consistency: 'quiesce-hooks' };
}

const quiesceTimeoutMs = 180_000;

export class Quiescer {
  /** Workloads scaled down, with the replicas to give back. */
  private scaled = new Map<string, { workload: Workload; replicas: number }>();
  /** Pods whose pre hook ran and whose post hook has not. */
  private hooked = new Map<string, { pod: any }>();

  constructor(
    private readonly client: KubeClient,
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    readonly mode: QuiesceMode,
    private readonly ctx: RunContext,
  ) {}

  /** Before a claim is copied (again, on a retry: idempotent). */
  async before(claim: string, users: ClaimUsers): Promise<void> {
    if (this.mode === 'scale') {
      for (const w of users.workloads) await this.scaleDown(w);
      await this.waitUnmounted(claim);
    } else if (this.mode === 'hooks') {
      for (const pod of users.pods) {
        if (this.hooked.has(pod.metadata.name) || !pod.metadata.annotations?.[hookAnnotations.pre.command]) continue;
        await this.hook('pre', pod);
        this.hooked.set(pod.metadata.name, { pod });
      }
    }
  }

  /** After a claim was copied: post hooks of its pods. */
  async after(users: ClaimUsers): Promise<void> {
    for (const pod of users.pods) {
      if (!this.hooked.delete(pod.metadata.name)) continue;
      await this.hook('post', pod).catch((err) => this.ctx.log.warn(`post hook of pod ${pod.metadata.name} failed: ${(err as Error).message}`));
    }
  }

  /** Resumes everything still quiesced; never throws (it runs in a finally). */
  async release(): Promise<string[]> {
    const problems: string[] = [];
    const hooked = [...this.hooked.values()];
    this.hooked.clear();
    for (const { pod } of hooked) {
      await this.hook('post', pod).catch((err) => problems.push(`post hook of pod ${pod.metadata.name}: ${(err as Error).message}`));
    }
    for (const { workload, replicas } of this.scaled.values()) {
      try {
        await this.client.request('PATCH', workload.path, {
          body: { metadata: { annotations: { [replicasAnnotation]: null } }, spec: { replicas } },
          contentType: 'application/merge-patch+json',
        });
        this.ctx.log.info(`scaled ${workload.kind}/${workload.name} back to ${replicas}`);
      } catch (err) {
        problems.push(`${workload.kind}/${workload.name} stays at 0 replicas (${(err as Error).message}); scale it back to ${replicas}`);
      }
    }
    this.scaled.clear();
    for (const p of problems) this.ctx.log.warn(p);
    return problems;
  }

  private async scaleDown(w: Workload): Promise<void> {
    if (this.scaled.has(w.path)) return;
    const live = await this.client.get(w.path);
    // A previous pack killed hard left the count in the annotation: that is the real one.
    const kept = Number(live.metadata.annotations?.[replicasAnnotation]);
    const replicas = Number.isInteger(kept) && live.spec?.replicas === 0 ? kept : live.spec?.replicas ?? 1;
    this.scaled.set(w.path, { workload: w, replicas });
    await this.client.request('PATCH', w.path, {
      body: { metadata: { annotations: { [replicasAnnotation]: String(replicas) } }, spec: { replicas: 0 } },
      contentType: 'application/merge-patch+json',
    });
    this.ctx.log.info(`scaled ${w.kind}/${w.name} from ${replicas} to 0 while its data is copied`);
  }

  private async waitUnmounted(claim: string): Promise<void> {
    const deadline = Date.now() + quiesceTimeoutMs;
    for (;;) {
      if (this.ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted while quiescing', { subject: `PersistentVolumeClaim/${claim}` });
      const pods = (await this.client.get(`/api/v1/namespaces/${this.namespace}/pods`)).items ?? [];
      const left = pods.filter((p: any) => mountsClaim(p, claim) && !p.metadata.labels?.['fatchart.io/mover']);
      if (!left.length) return;
      if (Date.now() > deadline) throw platformError(`pods ${left.map((p: any) => p.metadata.name).join(', ')} still mount the claim after scaling to zero`, `PersistentVolumeClaim/${claim}`);
      await sleep(500, this.ctx.signal);
    }
  }

  private async hook(phase: 'pre' | 'post', pod: any): Promise<void> {
    const a = pod.metadata.annotations ?? {};
    const line: string | undefined = a[hookAnnotations[phase].command];
    if (!line) return;
    const command = line.trim().startsWith('[') ? (JSON.parse(line) as string[]) : ['sh', '-c', line];
    const container = a[hookAnnotations[phase].container] ?? pod.spec.containers[0].name;
    const subject = `Pod/${pod.metadata.name}`;
    try {
      await execText(this.kc, { namespace: this.namespace, pod: pod.metadata.name, container }, command, subject, this.ctx.signal);
    } catch (err) {
      throw platformError(`${phase} hook failed: ${(err as Error).message.replace(`${subject}: `, '')}`, subject, err);
    }
    this.ctx.log.info(`${phase} hook ran in ${pod.metadata.name}/${container}`);
  }
}

export { listPods };
