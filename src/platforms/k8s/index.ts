import type { PlatformDriver } from '../driver.js';
import { captureFromCluster } from './capture.js';
import { createKubeTarget } from './restore.js';

/** Kubernetes: pack an app from a live cluster, unpack it onto one as a transaction. */
export const k8sDriver: PlatformDriver = {
  name: 'k8s',
  description: 'a live Kubernetes cluster (kubeconfig context and namespace)',
  source: { capture: (request, ctx) => captureFromCluster(request, ctx, 'k8s') },
  target: createKubeTarget(),
};

export { captureFromCluster, type KubeCapture, type KubeCaptureRequest } from './capture.js';
export { createKubeTarget, restoreToCluster, type KubeRestoreRequest, type RestoreHooks, type DataRestoreInput, type DataRestoreResult } from './restore.js';
export { rollbackJournal } from './rollback.js';
export { Journal } from './journal.js';
export { KubeClient } from './client.js';
export { cleanObject, cleanRules } from './clean-rules.js';
