import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import yaml from 'js-yaml';
import { convert, formatLoss } from '../../actions/convert.js';
import { quotaFromObjects, targets, type PatchRule, type Rewrites, type Target } from '../../convert/index.js';
import { FatchartError } from '../../errors.js';
import { parseObjects } from '../../model/yaml.js';
import { collect } from '../options.js';
import { runCommand } from '../run.js';

/**
 * The target rewrite flags, shared by `convert` and `unpack` (the issue asks for the same
 * rewrites on both): `addRewriteOptions(cmd)` declares them, `rewritesFromOptions(opts)` turns
 * the parsed values into the `Rewrites` that `applyRewrites` takes.
 */
export const keyValue = (flag: string) => (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`${flag} needs KEY=VALUE`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};

export function addRewriteOptions(cmd: Command): Command {
  return cmd
    .option('--map-namespace <a=b>', 'rewrite namespace A to B (repeatable)', keyValue('--map-namespace'))
    .option('--map-storage-class <a=b>', 'rewrite storage class A to B; * for claims without one (repeatable)', keyValue('--map-storage-class'))
    .option('--registry-mirror <src=dst>', 'rewrite image registry/repository prefix SRC to DST (repeatable)', keyValue('--registry-mirror'))
    .option('--replicas <name=n>', 'set replicas of a workload (repeatable)', keyValue('--replicas'))
    .option('--name-prefix <prefix>', 'prefix every object name (references follow)')
    .option('--fit-quota <file>', 'scale requests/limits to fit the ResourceQuota/LimitRange in FILE')
    .option('--patch <file>', 'YAML list of {match: {kind,name,namespace,labels}, jsonPatch, mergePatch} rules');
}

export interface RewriteFlags {
  mapNamespace?: Record<string, string>;
  mapStorageClass?: Record<string, string>;
  registryMirror?: Record<string, string>;
  replicas?: Record<string, string>;
  namePrefix?: string;
  fitQuota?: string;
  patch?: string;
}

export function rewritesFromOptions(o: RewriteFlags): Rewrites {
  const replicas = o.replicas
    ? Object.fromEntries(Object.entries(o.replicas).map(([k, v]) => {
        if (!/^\d+$/.test(v)) throw new FatchartError('usage', `--replicas ${k}=${v}: not a whole number`);
        return [k, Number(v)];
      }))
    : undefined;
  return {
    namespaces: o.mapNamespace,
    storageClasses: o.mapStorageClass,
    registryMirrors: o.registryMirror,
    replicas,
    namePrefix: o.namePrefix,
    patches: o.patch ? patchRules(o.patch) : undefined,
    fitQuota: o.fitQuota ? quotaFromObjects(parseObjects(readText(o.fitQuota), o.fitQuota)) : undefined,
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FatchartError('usage', `cannot read: ${(err as Error).message}`, { subject: file });
  }
}

function patchRules(file: string): PatchRule[] {
  let doc: unknown;
  try {
    doc = yaml.load(readText(file), { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new FatchartError('usage', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { subject: file });
  }
  const rules = Array.isArray(doc) ? doc : (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new FatchartError('usage', 'a patch file holds a list of rules (or {rules: [...]})', { subject: file });
  rules.forEach((r, i) => {
    if (!r || typeof r !== 'object' || (!('jsonPatch' in r) && !('mergePatch' in r))) {
      throw new FatchartError('usage', `rule ${i + 1} needs jsonPatch or mergePatch`, { subject: file });
    }
  });
  return rules as PatchRule[];
}

interface ConvertFlags extends RewriteFlags {
  to: Target;
  file?: string[];
  envFile?: string[];
  profile?: string[];
  projectName?: string;
  output: 'yaml' | 'json';
  out?: string;
  strict?: boolean;
  param?: Record<string, string>;
  gatewayApi?: string;
  deploymentConfig?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .summary('convert an app between Compose, Kubernetes and OpenShift, with a loss report')
    .argument('[input]', 'compose project folder or file, manifest folder or file, OpenShift template, or fat chart (default: the current folder, as Compose reads it)', '.')
    .addOption(new Option('--to <target>', 'target platform').choices([...targets]).makeOptionMandatory())
    .option('-f, --file <file>', 'compose file (repeatable, merged in order)', collect)
    .option('--env-file <file>', 'compose env file (repeatable; replaces .env)', collect)
    .option('--profile <name>', 'compose profile to enable (repeatable)', collect)
    .option('-p, --project-name <name>', 'compose project name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--out <dir>', 'write files into DIR (created atomically) instead of stdout')
    .option('--strict', 'fail with exit code 7 when anything is dropped')
    .option('--param <k=v>', 'OpenShift template parameter (repeatable)', keyValue('--param'))
    .option('--gateway-api <gateway>', 'k8s: Routes become Gateway API HTTPRoutes attached to GATEWAY ([namespace/]name)')
    .option('--deployment-config', 'openshift: emit DeploymentConfigs instead of Deployments');
  addRewriteOptions(cmd)
    .addHelpText('after', `
Examples:
  fatchart convert ./myproject --to k8s > app.yaml
  fatchart convert . -f compose.yaml -f compose.prod.yaml --to k8s --out k8s/
  fatchart convert template.json --to k8s --param NAME=shop --registry-mirror docker.io=mirror.local:5000
  fatchart convert manifests/ --to compose --out composed/

The loss report goes to stderr. Exit codes: 0 converted, 1 bad input, 7 something was dropped
and --strict was given.`)
    .action(async (input: string, o: ConvertFlags) => {
      await runCommand(program.opts(), async (ctx) => {
        const r = await convert({
          input,
          to: o.to,
          composeFiles: o.file,
          envFiles: o.envFile,
          profiles: o.profile,
          projectName: o.projectName,
          output: o.output,
          out: o.out,
          strict: o.strict,
          params: o.param,
          deploymentConfig: o.deploymentConfig,
          gateway: o.gatewayApi,
          rewrites: rewritesFromOptions(o),
        }, ctx);
        if (!o.out) process.stdout.write(r.text);
        for (const l of r.losses) ctx.log.warn(formatLoss(l));
        for (const c of r.rewrites) ctx.log.info(`rewrite ${c.rewrite}: ${c.object}: ${c.detail}`);
        if (o.out) ctx.log.info(`wrote ${r.written.length} file(s) to ${o.out}`);
      });
    });
}
