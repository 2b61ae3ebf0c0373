import yaml from 'js-yaml';
import { FatchartError } from '../errors.js';
import { isKubeObject, type KubeObject } from './object.js';

/**
 * Parses Kubernetes YAML or JSON text the way kubectl reads files: several `---` documents,
 * `kind: List` wrappers unrolled, empty documents ignored. `origin` names the file in errors.
 */
export function parseObjects(text: string, origin: string): KubeObject[] {
  let docs: unknown[];
  try {
    docs = yaml.loadAll(text, undefined, { filename: origin, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new FatchartError('usage', `not valid YAML: ${reason}`, { subject: origin });
  }
  const out: KubeObject[] = [];
  docs.forEach((doc, i) => collect(doc, `${origin}#${i + 1}`, out));
  return out;
}

function collect(doc: unknown, where: string, out: KubeObject[]): void {
  if (doc === null || doc === undefined) return;
  const o = doc as Record<string, unknown>;
  if (typeof o === 'object' && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
    o.items.forEach((item, j) => collect(item, `${where}.items[${j}]`, out));
    return;
  }
  if (!isKubeObject(doc)) {
    throw new FatchartError('usage', 'not a Kubernetes object (needs apiVersion, kind and metadata.name)', {
      subject: where,
    });
  }
  out.push(doc);
}

/** Deterministic YAML for one object: stable key order as given, no line folding, no refs. */
export function dumpObject(o: unknown): string {
  return yaml.dump(o, { noRefs: true, lineWidth: -1, quotingType: '"', schema: yaml.CORE_SCHEMA });
}

export function dumpObjects(objects: readonly unknown[]): string {
  return objects.map((o) => `---\n${dumpObject(o)}`).join('');
}
