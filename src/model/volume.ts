import type { Readable } from 'node:stream';

/**
 * How consistent a volume copy is. Recorded per volume in the manifest so whoever restores the
 * snapshot knows what they hold.
 *  - offline: the source is files at rest (a folder); nothing was running.
 *  - quiesce-scale / quiesce-stop: writers were stopped during the copy.
 *  - quiesce-pause: writers were frozen (cgroup freezer) during the copy.
 *  - quiesce-hooks: the app's own pre/post hooks made it consistent (e.g. a database flush).
 *  - crash-consistent: copied while running; like pulling the power plug.
 */
export type Consistency =
  | 'offline'
  | 'quiesce-scale'
  | 'quiesce-stop'
  | 'quiesce-pause'
  | 'quiesce-hooks'
  | 'crash-consistent';

export interface ClaimInfo {
  storageClassName?: string;
  accessModes?: string[];
  /** Requested size as the source declared it (`10Gi`), if any. */
  requested?: string;
}

/** One volume a source offers to the bundle writer. */
export interface VolumeSource {
  /** Volume name in the bundle: the claim name (PVC, compose named volume, bind-mount claim). */
  name: string;
  consistency: Consistency;
  claim?: ClaimInfo;
  /** Expected bytes, for progress and ETA only. */
  sizeHint?: number;
  /**
   * Opens the volume's contents as a POSIX tar stream (paths relative to the volume root).
   * Called once more per retry when a stream breaks, so it must start from the beginning.
   */
  open(): Promise<Readable>;
}
