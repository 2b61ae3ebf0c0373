import { applyRewrites, toTarget, validateObjects, type Rewrites } from '../convert/index.js';
import { FatchartError } from '../errors.js';
import type { PlatformName } from '../model/app.js';
import type { KubeObject } from '../model/object.js';
import type { RunContext } from '../util/context.js';
import { formatLoss } from './convert.js';

export interface TargetPreparation {
  rewrites?: Rewrites;
  /** Fail (exit 7) when the conversion drops anything. */
  strict?: boolean;
  /** OpenShift target: emit DeploymentConfigs instead of Deployments. */
  deploymentConfig?: boolean;
}

/**
 * The blueprints a target receives: converted to its dialect (OpenShift kinds for `openshift`,
 * Kubernetes kinds for `k8s`/`manifests`), then rewritten (namespace, storage class, registry
 * mirror, quota, replicas, prefix, patches) — the same steps as `fatchart convert`. The compose
 * target converts to Compose itself and only receives the rewritten model. Losses are printed.
 */
export function objectsForTarget(objects: readonly KubeObject[], target: PlatformName, prep: TargetPreparation, ctx: RunContext): KubeObject[] {
  const converted =
    target === 'compose' ? { objects: [...objects], losses: [] } : toTarget(objects, target === 'openshift' ? 'openshift' : 'k8s', { deploymentConfig: prep.deploymentConfig });
  for (const l of converted.losses) ctx.log.warn(formatLoss(l));
  const dropped = converted.losses.filter((l) => l.severity === 'dropped');
  if (prep.strict && dropped.length) {
    throw new FatchartError('lossy', `${dropped.length} field(s) dropped converting for ${target} and --strict was given (first: ${dropped[0]!.subject} ${dropped[0]!.field})`);
  }
  const rewritten = applyRewrites(converted.objects, prep.rewrites ?? {});
  for (const c of rewritten.report) ctx.log.info(`rewrite ${c.rewrite}: ${c.object}: ${c.detail}`);
  if (target !== 'compose') validateObjects(rewritten.objects);
  return rewritten.objects;
}
