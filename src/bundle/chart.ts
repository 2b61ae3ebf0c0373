import { dumpObject, parseObjects } from '../model/yaml.js';
import type { KubeObject } from '../model/object.js';
import { FORMAT_VERSION } from './manifest.js';

/**
 * The Helm chart inside a fat chart: Chart.yaml (apiVersion v2), values.yaml and one template
 * per cleaned object. Templates are literal YAML; the only Helm syntax they contain is the
 * escape for a literal `{{`, so `helm template` renders them back to exactly these objects.
 */
const LITERAL_OPEN = '{{ "{{" }}';

export function escapeTemplate(yamlText: string): string {
  return yamlText.replaceAll('{{', LITERAL_OPEN);
}

export function unescapeTemplate(text: string): string {
  return text.replaceAll(LITERAL_OPEN, '{{');
}

export function renderTemplate(o: KubeObject): string {
  return escapeTemplate(dumpObject(o));
}

export function parseTemplate(text: string, entry: string): KubeObject[] {
  return parseObjects(unescapeTemplate(text), entry);
}

/** Helm chart names: lowercase letters, digits and dashes. */
export function chartName(appName: string): string {
  const n = appName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return n || 'app';
}

export function renderChartYaml(name: string, appName: string, platform: string, created: string): string {
  return dumpObject({
    apiVersion: 'v2',
    name,
    description: `Fat chart of ${appName}, packed by fatchart from ${platform}`,
    type: 'application',
    version: '1.0.0',
    appVersion: created,
    annotations: { 'fatchart.io/format-version': FORMAT_VERSION },
  });
}

export const VALUES_YAML = `# This chart was written by fatchart. Its templates are the app's cleaned blueprints, literal
# and cluster-neutral (no namespace), so \`helm install\` places them in the release namespace.
# Volume data, checkpoints and images travel next to the chart in the fat chart archive;
# restore them with \`fatchart unpack\` rather than helm alone.
{}
`;
