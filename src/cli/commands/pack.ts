import { Command, Option } from 'commander';
import { pack } from '../../actions/pack.js';
import { platformNames } from '../../platforms/index.js';
import type { PlatformName } from '../../model/app.js';
import { creationTime } from '../../util/time.js';
import { bytes, duration } from '../../util/format.js';
import { runCommand } from '../run.js';
import { collect, intOption } from '../options.js';
import { signerFromFile } from '../../security/signature.js';
import { readPassphrase } from '../../security/open.js';

export function register(program: Command): void {
  program
    .command('pack')
    .summary('capture an app (blueprints + data) into one fat chart archive')
    .argument('[location]', 'source folder (manifests) or compose project folder')
    .addOption(new Option('-s, --source <platform>', 'where the app lives').choices(platformNames).default('manifests'))
    .option('-o, --out <file>', 'archive to write (default: <app>.fatchart)')
    .option('--name <name>', 'app name (default: fatchart-app.yaml, else the folder name)')
    .option('--created <time>', 'creation time to record (ISO 8601 or epoch seconds; default SOURCE_DATE_EPOCH or now)')
    .option('--level <n>', 'zstd compression level for volume data (1-19)', intOption, 3)
    .option('--retries <n>', 'extra attempts per volume when its stream breaks', intOption, 2)
    .option('--exclude-secrets', 'leave Secrets out (reported as losses)')
    .option('--sign <key>', 'sign with this Ed25519 private key (fatchart key generate)')
    .option('--encrypt <recipient>', 'encrypt for this age recipient (age1…, or a file of them; repeatable)', collect, [])
    .option('--passphrase', 'encrypt with a passphrase from FATCHART_PASSPHRASE or stdin')
    .option('--kubeconfig <file>', 'k8s/openshift: kubeconfig file')
    .option('--context <name>', 'k8s/openshift: kubeconfig context')
    .option('-n, --namespace <ns>', 'k8s/openshift: namespace of the app')
    .option('-l, --selector <selector>', 'k8s/openshift: label selector of the app')
    .option('--all', 'k8s/openshift: every object in the namespace')
    .option('--explain', 'k8s/openshift: print why each object was included')
    .addOption(new Option('--clean <profile>', 'k8s/openshift: portable keeps author-set and defaulted values; neat also drops server defaults').choices(['portable', 'neat']).default('portable'))
    .option('--quiesce <mode>', 'consistency while copying data: k8s scale|hooks|none, compose pause|stop|none')
    .option('--mover-image <image>', 'k8s: image of the pod that streams volume data')
    .option('--parallel <n>', 'k8s: volumes copied at once', intOption)
    .option('-f, --file <file>', 'compose: compose file (repeatable)', collect, [])
    .option('-p, --project <name>', 'compose: project name')
    .option('--env-file <file>', 'compose: env file (repeatable)', collect, [])
    .option('--profile <name>', 'compose: profile to enable (repeatable)', collect, [])
    .option('--images [what]', 'carry container images: none, referenced (every image the workloads run; also a bare --images) or a FILE listing one per line', 'none')
    .option('--platform <os/arch>', 'image platform picked from multi-arch indexes', 'linux/amd64')
    .option('--insecure-registry <host>', 'reach this registry over plain HTTP (repeatable; 127.0.0.0/8 always is)', collect, [])
    .option('--checkpoint [service...]', 'compose on a Docker Engine: CRIU checkpoint of every running service, or of the named ones')
    .option('--checkpoint-stop', 'stop the checkpointed containers (move) instead of leaving them running')
    .option('--checkpoint-archive <file>', 'store this Podman/CRI-O checkpoint export as is (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Examples:
  fatchart pack examples/shop -o bundles/shop.fatchart
  SOURCE_DATE_EPOCH=0 fatchart pack examples/notes -o notes.fatchart     # reproducible
  fatchart pack --source k8s -n shop -l app=shop -o shop.fatchart
  fatchart pack --source compose -f compose.yaml -p shop -o shop.fatchart
  fatchart pack examples/shop --sign me.key --encrypt age1… -o shop.fatchart.age
  fatchart pack examples/shop --images referenced -o shop.fatchart             # air-gapped target
  fatchart pack deploy/ --images images.txt --platform linux/arm64 --insecure-registry reg.lan:5000
  fatchart pack --source compose -f compose.yaml -p shop --images referenced   # from the local engine
  fatchart pack --source compose -f compose.yaml -p shop --checkpoint          # every running service
  fatchart pack --source compose -f compose.yaml -p shop --checkpoint-stop --checkpoint worker
  fatchart pack examples/shop --checkpoint-archive web.tar.zst                  # podman container checkpoint --export

--checkpoint takes service names up to the next option: give the compose folder with -f, or
before --checkpoint. Checkpoints need an experimental Docker Engine with CRIU, and local access
to its data root; CRIU cannot dump containers with established TCP connections.`,
    )
    .action(async (location: string | undefined, o) => {
      await runCommand(program.opts(), async (ctx) => {
        const result = await pack(
          {
            source: o.source as PlatformName,
            location,
            out: o.out,
            appName: o.name,
            created: creationTime(o.created),
            compressionLevel: o.level,
            retries: o.retries,
            excludeSecrets: o.excludeSecrets,
            kubeconfig: o.kubeconfig,
            context: o.context,
            namespace: o.namespace,
            selector: o.selector,
            all: o.all,
            explain: o.explain,
            quiesce: o.quiesce,
            moverImage: o.moverImage,
            clean: o.clean,
            parallel: o.parallel,
            composeFiles: o.file,
            project: o.project,
            envFiles: o.envFile,
            profiles: o.profile,
            images: o.images === true ? 'referenced' : o.images,
            platform: o.platform,
            insecureRegistries: o.insecureRegistry,
            checkpoint: o.checkpoint || o.checkpointStop ? { services: Array.isArray(o.checkpoint) ? o.checkpoint : [], leaveRunning: !o.checkpointStop } : undefined,
            checkpointArchives: o.checkpointArchive,
            signer: o.sign ? await signerFromFile(o.sign) : undefined,
            encrypt: o.passphrase || o.encrypt.length ? { recipients: o.encrypt, ...(o.passphrase ? { passphrase: await readPassphrase() } : {}) } : undefined,
          },
          ctx,
        );
        const p = result.manifest.plan;
        const m = result.manifest;
        const extras = [m.images.refs.length ? `${m.images.refs.length} images` : '', m.checkpoints.length ? `${m.checkpoints.length} checkpoints` : ''].filter(Boolean).join(', ');
        process.stdout.write(
          `packed ${result.manifest.app.name}: ${p.objects} objects, ${p.volumes} volumes, ${p.files} files, ${bytes(p.dataBytes)} of data${extras ? `, ${extras}` : ''} → ${result.path} (${bytes(result.bytes)}, ${duration(result.timings.totalMs!)})\nidentity ${result.identity}${result.manifest.signature ? `\nsigned by ${result.manifest.signature.keyId}` : ''}\n`,
        );
      });
    });
}
