import type { PlatformDriver } from '../driver.js';
import { captureFromCluster } from '../k8s/capture.js';
import { createKubeTarget } from '../k8s/restore.js';

/**
 * OpenShift is the Kubernetes driver: discovery already enumerates the OpenShift API groups
 * (DeploymentConfig, Route, ImageStream, BuildConfig, Template) and the rule tables know their
 * references and generated fields. This entry only records the platform as OpenShift.
 */
export const openshiftDriver: PlatformDriver = {
  name: 'openshift',
  description: 'a live OpenShift cluster (oc login context and project)',
  source: { capture: (request, ctx) => captureFromCluster(request, ctx, 'openshift') },
  target: createKubeTarget(),
};
