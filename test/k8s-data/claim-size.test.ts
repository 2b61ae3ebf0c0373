import { describe, expect, it } from 'vitest';
import { fitClaimSizes, neededBytes } from '../../src/platforms/k8s/data/claim-size.js';
import type { VolumeRecord } from '../../src/bundle/manifest.js';
import type { KubeObject } from '../../src/model/object.js';

const volume = (name: string, dataBytes: number) => ({ name, stats: { dataBytes } }) as VolumeRecord;
const claim = (name: string, storage?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], ...(storage ? { resources: { requests: { storage } } } : {}) },
});

describe('target claim sizes from the measured data', () => {
  it('sizes a claim without a request at the data plus 20% and 64 MiB, in whole MiB', () => {
    expect(neededBytes(100 << 20)).toBe(184 << 20);
    const { objects, changes } = fitClaimSizes([claim('db')], [volume('db', 100 << 20)]);
    expect((objects[0] as any).spec.resources.requests.storage).toBe('184Mi');
    expect(changes).toEqual([{ claim: 'db', from: undefined, to: '184Mi' }]);
  });

  it('raises a request smaller than the data and keeps one that fits', () => {
    const input = [claim('small', '10Mi'), claim('fits', '1Gi'), claim('other', '1Mi')];
    const { objects, changes } = fitClaimSizes(input, [volume('small', 50 << 20), volume('fits', 50 << 20)]);
    expect(objects.map((o: any) => o.spec.resources.requests.storage)).toEqual(['124Mi', '1Gi', '1Mi']);
    expect(changes.map((c) => `${c.claim}:${c.from}->${c.to}`)).toEqual(['small:10Mi->124Mi']);
    expect((input[0] as any).spec.resources.requests.storage).toBe('10Mi');
  });
});
