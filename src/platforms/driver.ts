import type { AppModel, PlatformName } from '../model/app.js';
import type { VolumeSource } from '../model/volume.js';
import type { RunContext } from '../util/context.js';
import type { BundleReader } from '../bundle/reader.js';
import type Docker from 'dockerode';
import type { CheckpointFile } from '../checkpoint/slot.js';

/**
 * Every platform is one folder under src/platforms exporting a PlatformDriver. The CLI looks
 * drivers up in src/platforms/index.ts; adding a platform is adding a folder and one table row.
 */
export interface PlatformDriver {
  readonly name: PlatformName;
  /** One line for `--help`. */
  readonly description: string;
  readonly source?: SourceDriver;
  readonly target?: TargetDriver;
}

/** What `fatchart pack` asks of a source. Fields a platform does not use are ignored. */
export interface CaptureRequest {
  /** Folder, compose file directory, or nothing for a live cluster. */
  location?: string;
  appName?: string;
  namespace?: string;
  selector?: string;
  all?: boolean;
  kubeconfig?: string;
  context?: string;
  composeFiles?: string[];
  project?: string;
  envFiles?: string[];
  profiles?: string[];
  quiesce?: string;
  moverImage?: string;
  parallel?: number;
  explain?: boolean;
  excludeSecrets?: boolean;
  /** k8s/openshift: cleaning profile, `portable` (default) or `neat` (also drops server defaults). */
  clean?: 'portable' | 'neat';
  /**
   * `pack --checkpoint [SERVICE…]`: CRIU checkpoints of the app's running containers (all when
   * `services` is empty), taken before anything is quiesced (a paused container cannot be dumped).
   */
  checkpoint?: { services: string[]; leaveRunning: boolean };
}

export interface Capture {
  model: AppModel;
  volumes: VolumeSource[];
  /** Checkpoint archives the source took (`checkpoint` request); release() deletes the files. */
  checkpoints?: CheckpointFile[];
  /** The engine whose local image store holds the app's images (Compose), for `pack --images`. */
  imageEngine?: Docker;
  /**
   * Called exactly once after the bundle is written or the pack failed: resume quiesced
   * workloads, delete helper pods/containers. Must not throw for cleanup that already happened.
   */
  release(): Promise<void>;
}

export interface SourceDriver {
  capture(request: CaptureRequest, ctx: RunContext): Promise<Capture>;
}

/** What `fatchart unpack` asks of a target. Fields a platform does not use are ignored. */
export interface RestoreRequest {
  out?: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  project?: string;
  up?: boolean;
  dryRun?: boolean;
  planOnly?: boolean;
  skipData?: boolean;
  onlyVolume?: string;
  conflict?: string;
  preservePerms?: boolean;
  /** k8s/openshift: image of the pods that write claim data; seconds to wait for binds and rollouts; where the journal goes. */
  moverImage?: string;
  waitTimeoutSeconds?: number;
  journal?: string;
  /** Checkpoints the target cannot restore: refuse the unpack (default) or start them cold. */
  checkpointFallback?: 'refuse' | 'cold';
  /** The blueprints after conversion and rewrites for this target (see src/convert). */
  objects?: AppModel['objects'];
}

export interface RestoreReport {
  /** Where it went: a folder, `context/namespace`, a compose project. */
  destination: string;
  objects: number;
  volumes: number;
  files: number;
  bytes: number;
  /** True when every restored file's digest was re-read and matched the bundle index. */
  digestsVerified: boolean;
  timings: Record<string, number>;
  /** Targets that restore checkpoints: which containers resumed, which started cold and why. */
  checkpoints?: { restored: string[]; cold: Array<{ container: string; reason: string }> };
}

export interface TargetDriver {
  restore(bundle: BundleReader, request: RestoreRequest, ctx: RunContext): Promise<RestoreReport>;
}
