import path from 'node:path';
import yaml from 'js-yaml';
import { annotation } from '../../convert/annotations.js';
import { modelToCompose } from '../../convert/compose/from-model.js';
import { composeName, dnsName } from '../../convert/util/names.js';
import type { KubeObject } from '../../model/object.js';

export const COMPOSE_FILE = 'compose.yaml';

type Raw = Record<string, any>;

/** What a compose unpack writes and restores. */
export interface ComposePlan {
  /** The compose document (also in `files` as compose.yaml). */
  document: Raw;
  /** Every file of the project folder, relative to it: compose.yaml, secrets/…, configs/…, bind files. */
  files: Map<string, string | Buffer>;
  /** Bundle volumes extracted as bind-mounted folders of the project. */
  folders: Array<{ claim: string; rel: string }>;
  /** Bundle volumes restored into the engine's named volumes (key in the compose file). */
  volumes: Array<{ claim: string; key: string }>;
  warnings: string[];
}

const dump = (doc: Raw) => yaml.dump(doc, { noRefs: true, lineWidth: -1, schema: yaml.CORE_SCHEMA });

/**
 * From the recorded compose project (compose → compose): the project as it was, with host paths
 * mapped into the new folder — bind-mounted data extracted there, secret and config files
 * written from the bundle's Secrets and ConfigMaps.
 */
export function planFromOriginal(original: KubeObject, objects: KubeObject[], claims: Set<string>): ComposePlan {
  const doc = escapeDollars(structuredClone((original as unknown as { spec: Raw }).spec)) as Raw;
  const plan: ComposePlan = { document: doc, files: new Map(), folders: [], volumes: [], warnings: [] };
  const find = (kind: string, pred: (o: KubeObject) => boolean) => objects.find((o) => o.kind === kind && pred(o));
  const bindSourceIs = (rel: string) => (o: KubeObject) => o.metadata.annotations?.[annotation.bindSource] === rel;
  const inside = (rel: string, fallback: string) => (rel === '.' || rel.startsWith('..') ? fallback : rel);
  const placed = new Map<string, string>();

  for (const [service, svc] of Object.entries((doc.services ?? {}) as Raw)) {
    for (const m of (svc.volumes ?? []) as Raw[]) {
      if (m.type !== 'bind' || typeof m.source !== 'string') continue;
      const rel = path.posix.normalize(m.source).replace(/^\.\//, '') || '.';
      if (placed.has(rel)) {
        m.source = placed.get(rel);
        continue;
      }
      const pvc = find('PersistentVolumeClaim', bindSourceIs(rel));
      const cm = find('ConfigMap', bindSourceIs(rel));
      let dest: string | undefined;
      if (pvc) {
        dest = inside(rel, `binds/${pvc.metadata.name}`);
        if (claims.has(pvc.metadata.name)) plan.folders.push({ claim: pvc.metadata.name, rel: dest });
        else plan.warnings.push(`${service}: bind mount ${m.source} has no data in the bundle; ${dest} starts empty`);
      } else if (cm) {
        const content = configMapFiles(cm);
        const single = content.size === 1 && content.has(path.posix.basename(rel));
        dest = inside(rel, single ? `binds/${cm.metadata.name}/${path.posix.basename(rel)}` : `binds/${cm.metadata.name}`);
        for (const [key, data] of content) plan.files.set(single ? dest : `${dest}/${key}`, data);
      } else {
        plan.warnings.push(`${service}: bind mount ${m.source} is not in the bundle; the host path must exist on the target`);
        continue;
      }
      m.source = `./${dest}`;
      placed.set(rel, m.source);
    }
  }
  for (const key of Object.keys((doc.volumes ?? {}) as Raw)) {
    if (claims.has(dnsName(key))) plan.volumes.push({ claim: dnsName(key), key });
  }
  for (const section of ['secrets', 'configs'] as const) {
    for (const [name, def] of Object.entries((doc[section] ?? {}) as Raw)) {
      if (typeof def.file !== 'string') continue;
      const key = path.posix.basename(def.file);
      const obj = section === 'secrets' ? find('Secret', (o) => o.metadata.name === dnsName(name)) : find('ConfigMap', (o) => o.metadata.name === dnsName(`config-${name}`));
      const data = obj && (section === 'secrets' ? secretFiles(obj) : configMapFiles(obj)).get(key);
      const rel = `${section}/${composeName(name)}/${key}`;
      def.file = `./${rel}`;
      if (data) plan.files.set(rel, data);
      else plan.warnings.push(`${section}.${name}: its content is not in the bundle (--exclude-secrets?); create ${rel} before starting the project`);
    }
  }
  for (const svc of Object.values((doc.services ?? {}) as Raw)) portable(svc);
  plan.files.set(COMPOSE_FILE, dump(doc));
  return plan;
}

/**
 * The loader writes every field in its long form with every default spelled out; some long
 * forms are newer than the Compose CLIs still in use (Debian's docker-compose 1.29 rejects
 * ports.host_ip, bind.create_host_path and depends_on.required). Each rule writes a field in the
 * form both v1 and v2 read, with the same meaning.
 */
const portableRules: Array<(svc: Raw) => void> = [
  // Long port syntax → "host_ip:published:target/protocol".
  (svc) => {
    if (!Array.isArray(svc.ports)) return;
    svc.ports = svc.ports.map((p: Raw) => {
      if (typeof p !== 'object' || p.mode === 'host' || p.name || p.app_protocol) return p;
      const published = p.published === undefined ? '' : String(p.published);
      const host = p.host_ip ? `${p.host_ip}:${published}:` : published ? `${published}:` : '';
      return `${host}${p.target}/${p.protocol ?? 'tcp'}`;
    });
  },
  // Folders are created by the unpack itself, so create_host_path only restates the default.
  (svc) => {
    for (const m of (svc.volumes ?? []) as Raw[]) {
      if (!m.bind) continue;
      delete m.bind.create_host_path;
      if (Object.keys(m.bind).length === 0) delete m.bind;
    }
  },
  // required: true and restart: false are the defaults; only the other values need v2.
  (svc) => {
    for (const dep of Object.values((svc.depends_on ?? {}) as Raw)) {
      if (dep.required === true) delete dep.required;
      if (dep.restart === false) delete dep.restart;
    }
  },
];

function portable(svc: Raw): void {
  for (const rule of portableRules) rule(svc);
}

/** From the app model (any other source, or blueprints changed by rewrites): CONVERT's modelToCompose. */
export function planFromModel(objects: KubeObject[], claims: Set<string>): ComposePlan {
  const out = modelToCompose(objects, { fileName: COMPOSE_FILE });
  const plan: ComposePlan = { document: out.document as Raw, files: new Map(out.files), folders: [], volumes: [], warnings: out.losses.map((l) => `${l.subject}: ${l.message}`) };
  const pvcs = objects.filter((o) => o.kind === 'PersistentVolumeClaim');
  for (const key of Object.keys((plan.document.volumes ?? {}) as Raw)) {
    const claim = pvcs.find((p) => composeName(p.metadata.name) === key)?.metadata.name;
    if (claim && claims.has(claim)) plan.volumes.push({ claim, key });
  }
  return plan;
}

function configMapFiles(o: KubeObject): Map<string, Buffer> {
  const raw = o as unknown as { data?: Record<string, string>; binaryData?: Record<string, string> };
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(raw.data ?? {})) out.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(raw.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

function secretFiles(o: KubeObject): Map<string, Buffer> {
  const raw = o as unknown as { data?: Record<string, string>; stringData?: Record<string, string> };
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(raw.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(raw.stringData ?? {})) out.set(k, Buffer.from(v));
  return out;
}

/** The recorded values are interpolated already: a literal `$` is written `$$` so Compose keeps it. */
function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}
