import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesToPack } from '../../src/images/flow.js';
import { collectImages, findImageUses, parseImageList, rewriteImageRefs, unmappedImages } from '../../src/images/collect.js';
import type { KubeObject } from '../../src/model/object.js';

const pod = (containers: object) => ({ containers: [], ...containers });
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const objects: KubeObject[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        spec: pod({
          initContainers: [{ name: 'migrate', image: 'shop/migrate:3' }],
          containers: [
            { name: 'web', image: 'nginx:1.25' },
            { name: 'sidecar', image: 'docker.io/library/nginx:1.25' },
          ],
        }),
      },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'debug', namespace: 'shop' },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'quay.io/tools/dbg:1' }] },
  },
  {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'backup' },
    spec: { jobTemplate: { spec: { template: { spec: pod({ containers: [{ name: 'b', image: 'postgres:16' }] }) } } } },
  },
  {
    apiVersion: 'image.openshift.io/v1',
    kind: 'ImageStream',
    metadata: { name: 'api', namespace: 'shop' },
    spec: { tags: [{ name: 'prod', from: { kind: 'DockerImage', name: 'registry.example.com/shop/api:2.1' } }] },
    status: { tags: [{ tag: 'prod', items: [{ dockerImageReference: `registry.example.com/shop/api@${D1}` }] }] },
  },
  {
    apiVersion: 'apps.openshift.io/v1',
    kind: 'DeploymentConfig',
    metadata: { name: 'api', namespace: 'shop' },
    spec: {
      triggers: [{ type: 'ImageChange', imageChangeParams: { automatic: true, containerNames: ['api'], from: { kind: 'ImageStreamTag', name: 'api:prod' } } }],
      template: { spec: { containers: [{ name: 'api', image: ' ' }, { name: 'log', image: 'fluent/fluent-bit:3' }] } },
    },
  },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { image: 'not-an-image-field' } },
];

describe('collecting images', () => {
  it('finds every place an image is named, with the field it sits in', () => {
    expect(findImageUses(objects).map((u) => `${u.object} ${u.field} ${u.image}`)).toEqual([
      'Deployment/web spec.template.spec.initContainers[0].image shop/migrate:3',
      'Deployment/web spec.template.spec.containers[0].image nginx:1.25',
      'Deployment/web spec.template.spec.containers[1].image docker.io/library/nginx:1.25',
      'Pod/shop/debug spec.containers[0].image busybox',
      'Pod/shop/debug spec.ephemeralContainers[0].image quay.io/tools/dbg:1',
      'CronJob/backup spec.jobTemplate.spec.template.spec.containers[0].image postgres:16',
      'ImageStream/shop/api spec.tags[0].from.name registry.example.com/shop/api:2.1',
      'DeploymentConfig/shop/api spec.template.spec.containers[1].image fluent/fluent-bit:3',
      `DeploymentConfig/shop/api spec.template.spec.containers[0].image registry.example.com/shop/api@${D1}`,
    ]);
  });

  it('lists distinct fully qualified references', () => {
    expect(collectImages(objects)).toEqual([
      'docker.io/fluent/fluent-bit:3',
      'docker.io/library/busybox:latest',
      'docker.io/library/nginx:1.25',
      'docker.io/library/postgres:16',
      'docker.io/shop/migrate:3',
      'quay.io/tools/dbg:1',
      'registry.example.com/shop/api:2.1',
      `registry.example.com/shop/api@${D1}`,
    ]);
  });

  it('rewrites every use found in the map, on copies, and reports what it could not map', () => {
    const map = new Map([
      ['docker.io/library/nginx:1.25', `10.0.0.5:5000/library/nginx@${D2}`],
      [`registry.example.com/shop/api@${D1}`, `10.0.0.5:5000/shop/api@${D1}`],
    ]);
    const out = rewriteImageRefs(objects, map);
    const web = (out[0].spec as any).template.spec.containers;
    expect(web.map((c: any) => c.image)).toEqual([`10.0.0.5:5000/library/nginx@${D2}`, `10.0.0.5:5000/library/nginx@${D2}`]);
    const dc = out[4].spec as any;
    expect(dc.template.spec.containers[0].image).toBe(`10.0.0.5:5000/shop/api@${D1}`);
    expect(dc.triggers[0].imageChangeParams.lastTriggeredImage).toBe(`10.0.0.5:5000/shop/api@${D1}`);
    expect((objects[0].spec as any).template.spec.containers[0].image).toBe('nginx:1.25');
    expect(unmappedImages(objects, map).map((u) => u.image)).toEqual([
      'shop/migrate:3',
      'busybox',
      'quay.io/tools/dbg:1',
      'postgres:16',
      'registry.example.com/shop/api:2.1',
      'fluent/fluent-bit:3',
    ]);
  });

  it('reads an --images list file', () => {
    expect(parseImageList('# pinned\npostgres:16\n\n  nginx:1.25  # web\npostgres:16\n')).toEqual([
      'docker.io/library/nginx:1.25',
      'docker.io/library/postgres:16',
    ]);
  });
});

describe('--images', () => {
  it('maps none, referenced and a list file to the references to carry', async () => {
    expect(await imagesToPack(undefined, objects)).toEqual([]);
    expect(await imagesToPack('none', objects)).toEqual([]);
    expect(await imagesToPack('referenced', objects)).toEqual(collectImages(objects));
    const file = join(mkdtempSync(join(tmpdir(), 'fatchart-imagelist-')), 'images.txt');
    writeFileSync(file, 'postgres:16\n');
    expect(await imagesToPack(file, objects)).toEqual(['docker.io/library/postgres:16']);
    await expect(imagesToPack(`${file}.absent`, objects)).rejects.toThrow(/expected none, referenced or a readable list file \(ENOENT\)/);
  });
});
