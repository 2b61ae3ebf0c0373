import fastJsonPatch from 'fast-json-patch';
import { FatchartError } from '../../errors.js';
import type { KubeObject } from '../../model/object.js';
import { objectRef } from '../../model/object.js';
import { fitContainer, podSpecOf, quotaFactors, type QuotaTarget } from './fit-quota.js';

export { quotaFromObjects, type QuotaTarget } from './fit-quota.js';

/**
 * Target rewrites (the seed paper's descriptor rewriter, generalised). Each rewrite is a pure
 * function over one object; `applyRewrites` runs them in table order and reports every change.
 */
export interface PatchRule {
  /** Which objects: every given field must match. `labels` is a subset match. */
  match?: { kind?: string; name?: string; namespace?: string; labels?: Record<string, string> };
  /** RFC 6902 operations. */
  jsonPatch?: Array<Record<string, unknown>>;
  /** RFC 7396 merge patch. */
  mergePatch?: Record<string, unknown>;
}

export interface Rewrites {
  namespaces?: Record<string, string>;
  storageClasses?: Record<string, string>;
  /** Registry (or repository) prefix → replacement; digests and tags are kept. */
  registryMirrors?: Record<string, string>;
  replicas?: Record<string, number>;
  namePrefix?: string;
  patches?: PatchRule[];
  /** The target's ResourceQuota/LimitRange to fit into (see fit-quota.ts). */
  fitQuota?: QuotaTarget;
}

export interface RewriteChange {
  object: string;
  rewrite: string;
  detail: string;
}

type Obj = Record<string, any>;
type Rewrite = (o: Obj, r: Rewrites, note: (detail: string) => void, all: KubeObject[]) => void;

const podSpecs = (o: Obj): Obj[] => {
  const s = o.spec ?? {};
  const specs = [o.kind === 'Pod' ? s : undefined, s.template?.spec, s.jobTemplate?.spec?.template?.spec];
  return specs.filter(Boolean);
};

const table: Array<[string, Rewrite, (r: Rewrites) => boolean]> = [
  ['map-namespace', (o, r, note) => {
    const ns = o.metadata.namespace;
    if (ns && r.namespaces![ns]) {
      o.metadata.namespace = r.namespaces![ns];
      note(`namespace ${ns} → ${o.metadata.namespace}`);
    }
    if (o.kind === 'Namespace' && r.namespaces![o.metadata.name]) {
      note(`renamed ${o.metadata.name} → ${r.namespaces![o.metadata.name]}`);
      o.metadata.name = r.namespaces![o.metadata.name];
    }
  }, (r) => !!r.namespaces],
  ['map-storage-class', (o, r, note) => {
    const specs = o.kind === 'PersistentVolumeClaim' ? [o.spec] : (o.spec?.volumeClaimTemplates ?? []).map((t: Obj) => t.spec);
    for (const s of specs) {
      const from = s?.storageClassName ?? '';
      const to = r.storageClasses![from] ?? (from === '' ? r.storageClasses!['*'] : undefined);
      if (s && to !== undefined) {
        s.storageClassName = to;
        note(`storage class ${from || '(default)'} → ${to}`);
      }
    }
  }, (r) => !!r.storageClasses],
  ['registry-mirror', (o, r, note) => {
    for (const pod of podSpecs(o)) {
      for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
        const mapped = mirrorImage(String(c.image ?? ''), r.registryMirrors!);
        if (mapped !== c.image) {
          note(`image ${c.image} → ${mapped}`);
          c.image = mapped;
        }
      }
    }
  }, (r) => !!r.registryMirrors],
  ['replicas', (o, r, note) => {
    const n = r.replicas![o.metadata.name];
    if (n !== undefined && o.spec && 'replicas' in o.spec) {
      note(`replicas ${o.spec.replicas} → ${n}`);
      o.spec.replicas = n;
    }
  }, (r) => !!r.replicas],
  ['fit-quota', (o, r, note, all) => {
    const pod = podSpecOf(o);
    if (!pod) return;
    const factors = factorsFor(all, r.fitQuota!);
    for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) fitContainer(c, factors, r.fitQuota!, note);
  }, (r) => !!r.fitQuota],
  ['name-prefix', (o, r, note, all) => prefixNames(o, r.namePrefix!, note, all), (r) => !!r.namePrefix],
  ['patch', (o, r, note) => {
    r.patches!.forEach((rule, i) => {
      if (!matches(o, rule)) return;
      if (rule.jsonPatch) {
        try {
          const res = fastJsonPatch.applyPatch(o, rule.jsonPatch as never, true, true);
          void res;
        } catch (err) {
          throw new FatchartError('usage', `patch rule ${i + 1}: ${(err as Error).message.split('\n')[0]}`, { subject: objectRef(o as KubeObject) });
        }
      }
      if (rule.mergePatch) mergePatch(o, rule.mergePatch);
      note(`patch rule ${i + 1}`);
    });
  }, (r) => !!r.patches?.length],
];

const factorCache = new WeakMap<readonly KubeObject[], Map<string, number>>();
function factorsFor(all: readonly KubeObject[], q: QuotaTarget): Map<string, number> {
  let f = factorCache.get(all);
  if (!f) factorCache.set(all, (f = quotaFactors(all, q)));
  return f;
}

export function applyRewrites(objects: readonly KubeObject[], rewrites: Rewrites): { objects: KubeObject[]; report: RewriteChange[] } {
  const out = objects.map((o) => structuredClone(o));
  const report: RewriteChange[] = [];
  for (const [name, fn, active] of table) {
    if (!active(rewrites)) continue;
    const snapshot = out.map((o) => structuredClone(o));
    out.forEach((o, i) => fn(o as Obj, rewrites, (detail) => report.push({ object: objectRef(snapshot[i]), rewrite: name, detail }), snapshot));
  }
  return { objects: out, report };
}

/** Longest matching prefix wins; `docker.io/library/` is implied for short names. */
export function mirrorImage(image: string, mirrors: Record<string, string>): string {
  const full = qualify(image);
  let best: string | undefined;
  for (const src of Object.keys(mirrors)) {
    const s = src.replace(/\/+$/, '');
    for (const candidate of [image, full]) if ((candidate === s || candidate.startsWith(`${s}/`)) && (!best || s.length > best.length)) best = s;
  }
  if (!best) return image;
  const base = image === best || image.startsWith(`${best}/`) ? image : full;
  return mirrors[best].replace(/\/+$/, '') + base.slice(best.length);
}

function qualify(image: string): string {
  const first = image.split('/')[0];
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return image;
  return `docker.io/${image.includes('/') ? image : `library/${image}`}`;
}

function matches(o: Obj, rule: PatchRule): boolean {
  const m = rule.match ?? {};
  if (m.kind && m.kind !== o.kind) return false;
  if (m.name && !globMatch(m.name, o.metadata.name)) return false;
  if (m.namespace && m.namespace !== o.metadata.namespace) return false;
  return Object.entries(m.labels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v);
}

const globMatch = (pattern: string, s: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(s);

function mergePatch(target: Obj, patch: Obj): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (!target[k] || typeof target[k] !== 'object' || Array.isArray(target[k])) target[k] = {};
      mergePatch(target[k], v as Obj);
    } else target[k] = v;
  }
}

/** References that name other objects, renamed together with them. */
const references: Array<[string, (o: Obj) => Array<[Obj, string]>]> = [
  ['Service', (o) => (o.kind === 'Ingress' ? (o.spec?.rules ?? []).flatMap((r: Obj) => (r.http?.paths ?? []).map((p: Obj) => [p.backend?.service ?? {}, 'name'])) : [])],
  ['PersistentVolumeClaim', (o) => podSpecs(o).flatMap((p) => (p.volumes ?? []).filter((v: Obj) => v.persistentVolumeClaim).map((v: Obj) => [v.persistentVolumeClaim, 'claimName']))],
  ['ConfigMap', (o) => podSpecs(o).flatMap((p) => [
    ...(p.volumes ?? []).filter((v: Obj) => v.configMap).map((v: Obj) => [v.configMap, 'name']),
    ...[...(p.containers ?? []), ...(p.initContainers ?? [])].flatMap((c: Obj) => [
      ...(c.envFrom ?? []).filter((e: Obj) => e.configMapRef).map((e: Obj) => [e.configMapRef, 'name']),
      ...(c.env ?? []).filter((e: Obj) => e.valueFrom?.configMapKeyRef).map((e: Obj) => [e.valueFrom.configMapKeyRef, 'name']),
    ]),
  ])],
  ['Secret', (o) => podSpecs(o).flatMap((p) => [
    ...(p.volumes ?? []).filter((v: Obj) => v.secret).map((v: Obj) => [v.secret, 'secretName']),
    ...[...(p.containers ?? []), ...(p.initContainers ?? [])].flatMap((c: Obj) => [
      ...(c.envFrom ?? []).filter((e: Obj) => e.secretRef).map((e: Obj) => [e.secretRef, 'name']),
      ...(c.env ?? []).filter((e: Obj) => e.valueFrom?.secretKeyRef).map((e: Obj) => [e.valueFrom.secretKeyRef, 'name']),
    ]),
  ])],
];

function prefixNames(o: Obj, prefix: string, note: (d: string) => void, all: KubeObject[]): void {
  if (o.kind === 'Namespace') return;
  const names = new Set(all.map((x) => `${x.kind}/${x.metadata.name}`));
  for (const [kind, refs] of references) {
    for (const [holder, field] of refs(o)) if (holder[field] && names.has(`${kind}/${holder[field]}`)) holder[field] = prefix + holder[field];
  }
  note(`name ${o.metadata.name} → ${prefix}${o.metadata.name}`);
  o.metadata.name = prefix + o.metadata.name;
}
