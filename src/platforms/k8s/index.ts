import type { PlatformDriver } from '../driver.js';
import { createKubeTarget } from './restore.js';
import { captureWithData, dataRestoreHooks } from './data/index.js';

/** Kubernetes: pack an app from a live cluster, unpack it onto one as a transaction. */
export const k8sDriver: PlatformDriver = {
  name: 'k8s',
  description: 'a live Kubernetes cluster (kubeconfig context and namespace)',
  // Claims' data streams through mover pods (src/platforms/k8s/data).
  source: { capture: (request, ctx) => captureWithData(request, ctx, 'k8s') },
  target: createKubeTarget(dataRestoreHooks),
};

export { captureFromCluster, type KubeCapture, type KubeCaptureRequest } from './capture.js';
export { createKubeTarget, restoreToCluster, type KubeRestoreRequest, type RestoreHooks, type DataRestoreInput, type DataRestoreResult } from './restore.js';
export { rollbackJournal } from './rollback.js';
export { Journal } from './journal.js';
export { KubeClient } from './client.js';
export { cleanObject, cleanRules } from './clean-rules.js';
export { captureWithData, dataRestoreHooks, fitClaimSizes } from './data/index.js';
