import type { Command } from 'commander';
import { exportBundleImages } from '../../images/bundle.js';
import { runCommand } from '../run.js';

export function register(program: Command): void {
  const images = program.command('images').summary('work with the container images a fat chart carries');
  images
    .command('export')
    .summary('write the bundle’s images to a folder as a standard OCI image layout')
    .argument('<bundle>', 'fat chart archive packed with --images')
    .argument('<dir>', 'folder to create (must not exist or be empty)')
    .addHelpText('after', `
Every blob is verified against the bundle and its digest on the way out. Standard tools take over
from the folder; stdout lists one oci: reference per image for them:

Examples:
  fatchart images export bundles/shop.fatchart ./shop-images
  skopeo copy oci:./shop-images:docker.io/library/postgres:16 docker://registry.local/postgres:16`)
    .action(async (bundle: string, dir: string) => {
      await runCommand(program.opts(), async (ctx) => {
        for (const name of await exportBundleImages(bundle, dir, ctx)) process.stdout.write(`oci:${dir}:${name}\n`);
      });
    });
}
