/** The checkpoint concern's public surface: what src/actions, the drivers and the CLI call. */
export { detectCompression, type ArchiveCompression } from './archive.js';
export { criuVersion, dirtyTracking } from './criu.js';
export { describeFacts, normaliseArch, type CheckpointFacts } from './facts.js';
export { readCheckpointFacts, type HostFacts } from './metadata.js';
export {
  captureDockerCheckpoint,
  dockerHostFacts,
  restoreDockerCheckpoint,
  type CapturedCheckpoint,
  type DockerCheckpointOptions,
  type DockerHost,
  type DockerRestoreOptions,
  type DockerRestoreResult,
} from './docker.js';
export { capturePodmanCheckpoint, podmanHostFacts, restorePodmanCheckpoint, type PodmanHost } from './podman.js';
export { requestKubeletCheckpoint, kubeletCheckpointPath, type KubeletCheckpointRequest } from './kubelet.js';
export { checkpointEntryName, checkpointSlot, checkpointSlots, importCheckpointArchive, type CheckpointFile } from './slot.js';
export {
  checkCompatibility,
  compatibilityRules,
  describeDifference,
  planCheckpointRestore,
  type CheckpointDecision,
  type CheckpointFallback,
  type Compatibility,
} from './preflight.js';
export { restoreBundleCheckpointsOnDocker, recordFacts, type CheckpointBundle, type DockerCheckpointRestore } from './restore.js';
export { buildCheckpointImage, checkpointAnnotations, CHECKPOINT_ANNOTATION_PREFIX, type CheckpointImage } from './oci-image.js';
