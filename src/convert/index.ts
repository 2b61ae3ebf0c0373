/**
 * Conversions between dialects, all through the Kubernetes-shaped app model (src/model):
 *   compose ──composeToModel──▶ model ──toTarget──▶ k8s | openshift | compose
 * Every function is pure (no I/O except the injected HostFiles) and returns its losses.
 */
import type { KubeObject } from '../model/object.js';
import type { Loss } from '../model/loss.js';
import { sortObjects } from '../model/order.js';
import { modelToCompose, type ComposeOutput, type ModelToComposeOptions } from './compose/from-model.js';
import { openShiftToKubernetes, type OpenShiftToKubernetesOptions } from './openshift/to-kubernetes.js';
import { kubernetesToOpenShift, type KubernetesToOpenShiftOptions } from './openshift/to-openshift.js';

export { composeToModel, bindClaimName, type ComposeToModelOptions } from './compose/to-model.js';
export { modelToCompose, type ComposeOutput, type ModelToComposeOptions } from './compose/from-model.js';
export { openShiftToKubernetes } from './openshift/to-kubernetes.js';
export { kubernetesToOpenShift } from './openshift/to-openshift.js';
export { processTemplate, generate } from './openshift/template.js';
export { applyRewrites, mirrorImage, quotaFromObjects, type QuotaTarget, type Rewrites, type PatchRule, type RewriteChange } from './rewrite/index.js';
export { validateObjects, validateCompose } from './validate.js';
export { annotation } from './annotations.js';

export type Target = 'k8s' | 'openshift' | 'compose';
export const targets: readonly Target[] = ['k8s', 'openshift', 'compose'];

export type TargetOptions = OpenShiftToKubernetesOptions & KubernetesToOpenShiftOptions & ModelToComposeOptions;

export interface TargetResult {
  objects: KubeObject[];
  losses: Loss[];
  /** Only for the compose target. */
  compose?: ComposeOutput;
}

/** Converts model objects (Kubernetes or OpenShift dialect, or a mix) for one target platform. */
export function toTarget(objects: readonly KubeObject[], target: Target, opts: TargetOptions = {}): TargetResult {
  if (target === 'openshift') {
    const r = kubernetesToOpenShift([...objects], opts);
    return { objects: sortObjects(r.objects), losses: r.losses };
  }
  const k8s = openShiftToKubernetes([...objects], opts);
  if (target === 'k8s') return { objects: sortObjects(k8s.objects), losses: k8s.losses };
  const compose = modelToCompose(sortObjects(k8s.objects), opts);
  return { objects: sortObjects(k8s.objects), losses: [...k8s.losses, ...compose.losses], compose };
}
