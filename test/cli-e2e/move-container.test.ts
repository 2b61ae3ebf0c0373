/**
 * The create call a checkpoint restore makes for another project name and folder: Compose's
 * labels, the container name, the project's own volumes, bind mounts below the source's folder
 * and the project network (with the service's alias) move; everything else (external volumes, other host paths) stays.
 */
import { describe, expect, it } from 'vitest';
import { moveContainer } from '../../src/platforms/compose/checkpoints.js';

const recorded = {
  name: 'shop_db_1',
  Image: 'postgres:16',
  Labels: {
    'com.docker.compose.project': 'shop',
    'com.docker.compose.service': 'db',
    'com.docker.compose.project.working_dir': '/home/me/shop',
    'com.docker.compose.project.config_files': '/home/me/shop/compose.yaml',
    other: 'kept',
  },
  HostConfig: {
    Binds: ['shop_data:/var/lib/data:rw', 'shared-ext:/ext', '/home/me/shop/conf:/etc/conf:ro', '/etc/hosts:/etc/hosts2', 'shop_datax:/x'],
    Mounts: [
      { Type: 'volume' as const, Source: 'shop_data', Target: '/m' },
      { Type: 'bind' as const, Source: '/home/me/shop', Target: '/all' },
    ],
    NetworkMode: 'shop_default',
  },
};

describe('moveContainer', () => {
  it('points a recorded container at the target project', () => {
    const moved = moveContainer(recorded, { project: 'shop2', dir: '/srv/shop2', composeFile: 'compose.yaml', volumeKeys: ['data'] });
    expect(moved.name).toBe('shop2_db_1');
    expect(moved.Labels).toEqual({
      'com.docker.compose.project': 'shop2',
      'com.docker.compose.service': 'db',
      'com.docker.compose.project.working_dir': '/srv/shop2',
      'com.docker.compose.project.config_files': '/srv/shop2/compose.yaml',
      other: 'kept',
    });
    expect(moved.HostConfig?.Binds).toEqual(['shop2_data:/var/lib/data:rw', 'shared-ext:/ext', '/srv/shop2/conf:/etc/conf:ro', '/etc/hosts:/etc/hosts2', 'shop_datax:/x']);
    expect(moved.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'shop2_data', Target: '/m' },
      { Type: 'bind', Source: '/srv/shop2', Target: '/all' },
    ]);
    expect(moved.HostConfig?.NetworkMode).toBe('shop2_default');
    expect(moved.NetworkingConfig).toEqual({ EndpointsConfig: { shop2_default: { Aliases: ['db'] } } });
    // The recorded document is not modified.
    expect(recorded.Labels['com.docker.compose.project']).toBe('shop');
  });

  it('leaves a container without Compose labels as it is', () => {
    const plain = { name: 'x', Image: 'busybox', HostConfig: { Binds: ['shop_data:/d'] } };
    expect(moveContainer(plain, { project: 'shop2', dir: '/srv', composeFile: 'compose.yaml', volumeKeys: ['data'] })).toBe(plain);
  });
});
