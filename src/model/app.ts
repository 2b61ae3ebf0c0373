import type { KubeObject } from './object.js';
import type { Loss } from './loss.js';

/** Platform kinds fatchart can read from or write to. One folder per kind in src/platforms. */
export type PlatformName = 'manifests' | 'k8s' | 'openshift' | 'compose';

/** Where the app came from, as recorded in the manifest's `source` block. */
export interface SourceInfo {
  platform: PlatformName;
  /** Server or engine version when the source is live (`v1.20.2`, `Docker 20.10.24`). */
  version?: string;
  /** kubeconfig context, Docker host, or nothing for an offline folder (paths are not recorded). */
  context?: string;
  namespace?: string;
}

export interface AppIdentity {
  name: string;
  /** Label selector (`app=shop`) or compose project name that chose the app's components. */
  selector?: string;
}

/**
 * The platform-neutral app: cleaned blueprints plus the raw originals they came from.
 * `objects` are what the chart holds; `originals` are kept byte-faithful for lossless reverse
 * conversions. Both are in canonical order (see src/model/order.ts).
 */
export interface AppModel {
  app: AppIdentity;
  source: SourceInfo;
  objects: KubeObject[];
  originals: KubeObject[];
  losses: Loss[];
}
