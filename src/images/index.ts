/** The images concern's public surface: what src/actions and the CLI call. */
export { parseImageRef, formatImageRef, normalizeImageRef, parseRegistryTarget, type ImageRef } from './ref.js';
export { collectImages, findImageUses, rewriteImageRefs, unmappedImages, parseImageList, type ImageUse } from './collect.js';
export {
  chainCredentials,
  defaultCredentials,
  dockerConfigCredentials,
  secretCredentials,
  staticCredentials,
  type Credential,
  type CredentialLookup,
} from './credentials.js';
export { RegistryClient, type ClientOptions } from './client.js';
export { resolveImageSlot, type PullOptions } from './pull.js';
export { type ImageSlot, type ImageSlotEntry, type PackedImage } from './slot.js';
export { pushImages, pushImagesWithStats, type PushOptions, type PushStats } from './push.js';
export { folderLayout, exportLayout, IMAGE_SLOT, type LayoutSource } from './layout.js';
export { bundleLayout, bundleHasImages, exportBundleImages } from './bundle.js';
export { DEFAULT_PLATFORM } from './media.js';
export { engineImageSlot, loadImagesIntoEngine, type EngineSlot, type EngineOptions } from './engine.js';
export { imagesToPack, pushAndRewrite, type PushAndRewriteResult } from './flow.js';
