import type { PlatformName } from '../../../model/app.js';
import type { RunContext } from '../../../util/context.js';
import type { RestoreHooks } from '../restore.js';
import { KubeClient } from '../client.js';
import { captureFromCluster, type KubeCapture, type KubeCaptureRequest } from '../capture.js';
import { captureVolumes } from './pack.js';
import { restoreVolumes } from './restore.js';
import { defaultMoverImage } from './mover.js';

/**
 * Volume data of a Kubernetes app (see README.md here): claims stream into the bundle through
 * mover pods at pack, and back with an in-pod digest check at unpack.
 */
export interface DataCaptureRequest extends KubeCaptureRequest {
  skipData?: boolean;
  /** Pack only this claim's data (the blueprints stay complete). */
  onlyVolume?: string;
}

/** `--mover-image`, else $FATCHART_MOVER_IMAGE, else the documented default. */
export function moverImage(flag?: string): string {
  return flag || process.env.FATCHART_MOVER_IMAGE || defaultMoverImage;
}

/** captureFromCluster plus the app's claims as volume sources; release() also cleans up movers and quiescing. */
export async function captureWithData(
  request: DataCaptureRequest,
  ctx: RunContext,
  platform: PlatformName,
  client = new KubeClient({ kubeconfig: request.kubeconfig, context: request.context }),
): Promise<KubeCapture> {
  const capture = await captureFromCluster(request, ctx, platform, client);
  if (request.skipData) return capture;
  const claims = capture.model.objects.filter((o) => o.kind === 'PersistentVolumeClaim');
  const data = await captureVolumes(
    client,
    claims,
    {
      namespace: capture.model.source.namespace!,
      quiesce: request.quiesce,
      moverImage: moverImage(request.moverImage),
      parallel: request.parallel,
      only: request.onlyVolume ? [request.onlyVolume] : undefined,
      appObjects: capture.model.objects,
    },
    ctx,
  );
  return {
    ...capture,
    volumes: [...capture.volumes, ...data.volumes],
    async release() {
      await data.release();
      await capture.release();
    },
  };
}

/** The restore hook that fills claims between "claims bound" and "workloads applied". */
export const dataRestoreHooks: RestoreHooks = {
  restoreData: (input) => restoreVolumes(input, { moverImage: moverImage((input.request as { moverImage?: string }).moverImage) }),
};

export { captureVolumes, packCommand, type VolumeCapture, type VolumeCaptureOptions } from './pack.js';
export { restoreVolumes, type DataRestoreOptions } from './restore.js';
export { defaultMoverImage, Mover, moverLabel } from './mover.js';
export { quiesceModes, replicasAnnotation, hookAnnotations, type QuiesceMode } from './quiesce.js';
export { fitClaimSizes, neededBytes, headroom, type SizeChange } from './claim-size.js';
export { execStream, execWithInput, execText } from './exec.js';
