import type { PlatformDriver } from '../driver.js';
import { captureWithData, createKubeTarget, dataRestoreHooks } from '../k8s/index.js';

/**
 * OpenShift is the Kubernetes driver: discovery already enumerates the OpenShift API groups
 * (DeploymentConfig, Route, ImageStream, BuildConfig, Template) and the rule tables know their
 * references and generated fields. This entry only records the platform as OpenShift; claims'
 * data moves through the same mover pods.
 */
export const openshiftDriver: PlatformDriver = {
  name: 'openshift',
  description: 'a live OpenShift cluster (oc login context and project)',
  source: { capture: (request, ctx) => captureWithData(request, ctx, 'openshift') },
  target: createKubeTarget(dataRestoreHooks),
};
