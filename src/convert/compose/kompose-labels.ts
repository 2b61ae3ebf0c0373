/**
 * The `kompose.*` service labels Kompose users already write, honoured so their projects convert
 * the same way. Each row: label → where it goes. The converter reads them through `komposeLabel`
 * and never copies them onto the generated objects.
 */
export const komposeLabels = {
  serviceType: 'kompose.service.type',
  nodePort: 'kompose.service.nodeport.port',
  expose: 'kompose.service.expose',
  exposeTlsSecret: 'kompose.service.expose.tls-secret',
  exposeIngressClass: 'kompose.service.expose.ingress-class-name',
  volumeType: 'kompose.volume.type',
  volumeSize: 'kompose.volume.size',
  volumeStorageClass: 'kompose.volume.storage-class-name',
  controllerType: 'kompose.controller.type',
  imagePullPolicy: 'kompose.image-pull-policy',
  imagePullSecret: 'kompose.image-pull-secret',
  cronSchedule: 'kompose.cronjob.schedule',
  cronConcurrency: 'kompose.cronjob.concurrency_policy',
  cronBackoffLimit: 'kompose.cronjob.backoff_limit',
  serviceAccount: 'kompose.serviceaccount-name',
} as const;

/** `kompose.service.healthcheck.<probe>.<field>` → probe fields. */
export const komposeProbePrefix = 'kompose.service.healthcheck.';

/** Kompose labels accepted but without effect here, with the reason (shown in the loss report). */
export const komposeIgnored: Record<string, string> = {
  'kompose.service.group': 'services are never merged into one pod; each keeps its own workload',
  'kompose.container.kompose.controller.port.expose': 'not a Kompose label that changes output',
};

export const isKomposeLabel = (key: string) => key.startsWith('kompose.');

export const serviceTypes: Record<string, { type: string; headless?: boolean }> = {
  clusterip: { type: 'ClusterIP' },
  nodeport: { type: 'NodePort' },
  loadbalancer: { type: 'LoadBalancer' },
  headless: { type: 'ClusterIP', headless: true },
};

export const controllerKinds: Record<string, string> = {
  deployment: 'Deployment',
  daemonset: 'DaemonSet',
  statefulset: 'StatefulSet',
  replicationcontroller: 'ReplicationController',
};
