/**
 * The offline folder layout (docs/FORMAT.md, "The manifests platform"):
 *
 *   APP/
 *     fatchart-app.yaml      optional: name (and selector) of the app; default name = folder name
 *     *.yaml, *.yml, *.json  Kubernetes objects, any depth, multi-document files and Lists
 *     data/<claim>/          the files of the PersistentVolumeClaim named <claim>
 *
 * `unpack --target manifests` writes the same shape, one object per file under manifests/.
 */
export const APP_FILE = 'fatchart-app.yaml';
export const DATA_DIR = 'data';
export const MANIFESTS_DIR = 'manifests';
export const manifestExtensions = /\.(ya?ml|json)$/i;
