/** The Docker Engine side of the compose platform: what the compose driver calls. */
export { engineClient, engineVersion, describeEngine, type Engine } from './client.js';
export { inspectProject, listProjectVolumes, projectExists, type ProjectContainer, type ProjectState, type ProjectVolume, type MountUse } from './project.js';
export { volumeTar, namedVolumeSource, bindMountSource, type NamedVolumeSourceOptions, type BindMountSourceOptions } from './volume-source.js';
export { quiesce, withQuiesce, parseQuiesceMode, type QuiesceMode, type Quiesced } from './quiesce.js';
export { EngineJournal } from './journal.js';
export { createVolume, fillVolume, type CreateVolumeOptions, type FillOptions } from './restore.js';
export { verifyVolume, type VolumeVerification } from './verify.js';
export { composeUp, waitHealthy, findComposeCli, type ComposeUpOptions, type ServiceStatus } from './compose-cli.js';
export { HELPER_IMAGE } from './helper.js';
export { engineUp } from './engine-up.js';
