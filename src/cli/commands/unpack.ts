import { Command, Option } from 'commander';
import { unpack } from '../../actions/unpack.js';
import { platformNames } from '../../platforms/index.js';
import type { PlatformName } from '../../model/app.js';
import { bytes, duration } from '../../util/format.js';
import { runCommand } from '../run.js';
import { collect, intOption } from '../options.js';
import { readPassphrase } from '../../security/open.js';
import { addRewriteOptions, rewritesFromOptions } from './convert.js';

export function register(program: Command): void {
  const cmd = program
    .command('unpack')
    .summary('verify a fat chart and restore it onto a target platform')
    .argument('<bundle>', 'fat chart archive')
    .addOption(new Option('-t, --target <platform>', 'where to restore').choices(platformNames).default('manifests'))
    .option('--out <dir>', 'manifests/compose: folder to write (must not exist or be empty)')
    .option('--skip-data', 'restore blueprints only, no volume data')
    .option('--only-volume <name>', 'restore only this volume')
    .option('--preserve-perms', 'keep setuid/setgid bits from the archive (stripped by default)')
    .option('--strict', 'fail (exit 7) when converting for the target drops anything')
    .option('--deployment-config', 'openshift: emit DeploymentConfigs instead of Deployments')
    .option('--key <pub>', 'require a valid signature by this public key (repeatable)', collect, [])
    .option('--require-signature', 'refuse unsigned bundles (keys from --key or FATCHART_TRUSTED_KEYS)')
    .option('--identity <file>', 'age identity file to decrypt an encrypted bundle (repeatable)', collect, [])
    .option('--passphrase', 'decrypt with a passphrase from FATCHART_PASSPHRASE or stdin')
    .option('--kubeconfig <file>', 'k8s/openshift: kubeconfig file')
    .option('--context <name>', 'k8s/openshift: kubeconfig context')
    .option('-n, --namespace <ns>', 'k8s/openshift: target namespace')
    .option('--dry-run', 'k8s/openshift: server-side dry run; change nothing')
    .option('--plan', 'k8s/openshift: print the action for each object, in order, and stop')
    .option('--mover-image <image>', 'k8s/openshift: image of the pods that write claim data (needs sh, tar, sha256sum)')
    .option('--wait-timeout <seconds>', 'k8s/openshift: how long to wait for claims to bind and workloads to be ready', intOption, 300)
    .option('--journal <file>', 'k8s/openshift: where to write the transaction journal (default under $XDG_STATE_HOME/fatchart/journals)')
    .addOption(new Option('--conflict <policy>', 'k8s/openshift: existing objects').choices(['fail', 'skip', 'overwrite']).default('fail'))
    .option('-p, --project <name>', 'compose: project name')
    .option('--up', 'compose: start the project and wait for health checks')
    .option('--push-images <registry>', 'push the carried images to REGISTRY[/prefix] and point every workload at them by digest')
    .option('--insecure-registry <host>', 'reach this registry over plain HTTP (repeatable; 127.0.0.0/8 always is)', collect, [])
    .option('--load-images', 'compose: load the carried images into the local Docker Engine')
    .addOption(new Option('--checkpoint-fallback <mode>', 'compose: checkpoints this engine cannot restore: refuse the unpack, or start cold').choices(['refuse', 'cold']).default('refuse'));
  addRewriteOptions(cmd);
  cmd
    .addHelpText('after', `
Examples:
  fatchart unpack bundles/shop.fatchart --target manifests --out /tmp/shop
  fatchart unpack shop.fatchart --target manifests --out /tmp/shop --map-storage-class '*=fast' --registry-mirror docker.io=mirror.local:5000
  fatchart unpack shop.fatchart --target k8s --context prod -n shop-restored
  fatchart unpack shop.fatchart --target compose --out ./shop -p shop --up
  fatchart unpack shop.fatchart --target k8s -n shop --push-images registry.internal:5000/shop
  fatchart unpack shop.fatchart --target manifests --out ./shop --push-images reg.lan:5000 --insecure-registry reg.lan:5000
  fatchart unpack shop.fatchart --target compose --out ./shop -p shop --load-images --up
  fatchart unpack shop.fatchart --target compose --out ./shop -p shop --up --checkpoint-fallback cold

--push-images verifies every carried blob before the first upload and refuses when a workload
runs an image the bundle does not carry. Checkpoints (pack --checkpoint) are restored after the
volumes, resuming the processes where they were; a target whose runtime, CRIU, kernel, cgroup
version or CPU differs is refused naming the fact, or started cold with --checkpoint-fallback cold.

Nothing is left half-done: a folder target is written beside --out and renamed at the end;
a cluster target is a transaction rolled back on any failure.`)
    .action(async (bundle: string, o) => {
      await runCommand(program.opts(), async (ctx) => {
        const r = await unpack(
          bundle,
          {
            target: o.target as PlatformName,
            prepare: { rewrites: rewritesFromOptions(o), strict: o.strict, deploymentConfig: o.deploymentConfig },
            out: o.out,
            skipData: o.skipData,
            onlyVolume: o.onlyVolume,
            preservePerms: o.preservePerms,
            kubeconfig: o.kubeconfig,
            context: o.context,
            namespace: o.namespace,
            dryRun: o.dryRun,
            planOnly: o.plan,
            conflict: o.conflict,
            moverImage: o.moverImage,
            waitTimeoutSeconds: o.waitTimeout,
            journal: o.journal,
            project: o.project,
            up: o.up,
            pushImages: o.pushImages,
            insecureRegistries: o.insecureRegistry,
            loadImages: o.loadImages,
            checkpointFallback: o.checkpointFallback,
            trust: { keys: o.key, requireSignature: o.requireSignature, identities: o.identity, ...(o.passphrase ? { passphrase: await readPassphrase() } : {}) },
          },
          ctx,
        );
        const total = Object.values(r.timings).reduce((a, b) => a + b, 0);
        process.stdout.write(
          `unpacked ${r.identity}${r.signature.state === 'verified' ? ` (signed by ${r.signature.keyId})` : ''} → ${r.destination}: ${r.objects} objects, ${r.volumes} volumes, ${r.files} files, ${bytes(r.bytes)}; digests ${r.digestsVerified ? 'verified' : 'NOT verified'} (${duration(total)})\n`,
        );
        for (const c of r.checkpoints?.restored ?? []) process.stdout.write(`checkpoint ${c}: restored, resumed where it was\n`);
        for (const c of r.checkpoints?.cold ?? []) process.stdout.write(`checkpoint ${c.container}: cold start (${c.reason})\n`);
      });
    });
}
