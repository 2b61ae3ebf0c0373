import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { templateEntry } from '../../bundle/layout.js';
import type { BundleReader } from '../../bundle/reader.js';
import { extractVolume } from '../../bundle/volume-extract.js';
import { dumpObject } from '../../model/yaml.js';
import type { RunContext } from '../../util/context.js';
import { StagingDir } from '../../util/staging.js';
import { counted } from '../../util/lines.js';
import { FatchartError } from '../../errors.js';
import type { RestoreReport, RestoreRequest, TargetDriver } from '../driver.js';
import { APP_FILE, DATA_DIR, MANIFESTS_DIR } from './layout.js';

export const manifestsTarget: TargetDriver = {
  async restore(bundle: BundleReader, request: RestoreRequest, ctx: RunContext): Promise<RestoreReport> {
    if (!request.out) throw new FatchartError('usage', 'unpack --target manifests needs --out DIR');
    const t0 = performance.now();
    const staging = await StagingDir.create(request.out);
    try {
      const objects = request.objects ?? (await bundle.objects());
      const m = bundle.manifest;
      await writeFile(join(staging.path, APP_FILE), yaml.dump({ name: m.app.name, ...(m.app.selector ? { selector: m.app.selector } : {}) }));
      await mkdir(join(staging.path, MANIFESTS_DIR));
      for (const [i, o] of objects.entries()) {
        const file = templateEntry(i, o.kind, o.metadata.name).split('/').pop()!;
        await writeFile(join(staging.path, MANIFESTS_DIR, file), dumpObject(o));
      }
      const tObjects = performance.now();

      let files = 0;
      let bytes = 0;
      const volumes = request.skipData ? [] : m.volumes.filter((v) => !request.onlyVolume || v.name === request.onlyVolume);
      if (request.onlyVolume && volumes.length === 0) throw new FatchartError('usage', `no volume named "${request.onlyVolume}" in the bundle`);
      for (const v of volumes) {
        if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted; nothing was written to --out');
        const dir = join(staging.path, DATA_DIR, v.name);
        await mkdir(dir, { recursive: true });
        const progress = ctx.progress.start(`volume ${v.name}`, v.stats.dataBytes);
        const tar = counted(bundle.volumeTar(v.name), (n) => progress.advance(n));
        const stats = await extractVolume(tar, bundle.volumeIndex(v.name), dir, {
          subject: `${bundle.path}:${v.entry}`,
          preservePerms: request.preservePerms,
        });
        progress.done(`${stats.files} files verified`);
        files += stats.files;
        bytes += stats.dataBytes;
      }
      if (ctx.signal.aborted) throw new FatchartError('interrupted', 'interrupted; nothing was written to --out');
      await staging.commit();
      return {
        destination: staging.destination,
        objects: objects.length,
        volumes: volumes.length,
        files,
        bytes,
        digestsVerified: true,
        timings: { objectsMs: tObjects - t0, dataMs: performance.now() - tObjects },
      };
    } catch (err) {
      await staging.abort();
      throw err;
    }
  },
};
