/**
 * The Compose project the capture and end-to-end tests run: two services, a named volume with
 * varied files, a bind-mounted folder big and deep enough to become a claim, a secret, a
 * healthcheck and a depends_on service_healthy; served on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Engine } from '../../src/platforms/compose/engine/client.js';
import { COMPOSE_PROJECT, COMPOSE_VOLUME } from '../../src/platforms/compose/engine/labels.js';
import type { DockerComponent } from '../support/components/docker.js';
import { runScript } from './engine-helpers.js';

const run = promisify(execFile);

export const projectFile = (image: string, port: number) => `
services:
  web:
    image: ${image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1:${port}:8080"]
    volumes:
      - site:/www
      - ./uploads:/uploads
    secrets: [api_key]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]
      interval: 1s
      retries: 30
  worker:
    image: ${image}
    command: ["sh", "-c", "while true; do cat /run/secrets/api_key > /dev/null; sleep 1; done"]
    secrets: [api_key]
    depends_on:
      web:
        condition: service_healthy
volumes:
  site: {}
secrets:
  api_key:
    file: ./api_key.txt
`;

/** Seeds the named volume from inside a container, as an app would have written it. */
export const siteSeed = `cd /www
echo 'hello over 127.0.0.1' > index.html
mkdir -p assets/empty img
head -c 200000 /dev/urandom > img/blob.bin
ln img/blob.bin img/blob-hardlink.bin
ln -s ../index.html assets/home.html
printf 'x' > 'ünïcødé ☃.txt'
printf '#!/bin/sh\\n' > assets/run.sh && chmod 755 assets/run.sh
touch -d '2010-01-01 00:00:00' index.html
`;

/**
 * Writes the project into `dir` and starts it as `project`: the named volume is created and
 * seeded first (the health check looks for index.html) and Compose adopts it.
 */
export async function startSourceProject(engine: Engine, docker: DockerComponent, dir: string, project: string, port: number): Promise<void> {
  await writeFile(join(dir, 'compose.yaml'), projectFile(docker.image, port));
  await writeFile(join(dir, 'api_key.txt'), 's3cret\n');
  // A folder with a subfolder and 2 MiB: too big to be a ConfigMap, so it becomes a claim.
  await mkdir(join(dir, 'uploads', 'sub'), { recursive: true });
  await writeFile(join(dir, 'uploads', 'sub', 'big.bin'), Buffer.alloc(2 << 20, 7));
  await symlink('sub/big.bin', join(dir, 'uploads', 'latest'));
  await engine.createVolume({ Name: `${project}_site`, Labels: { [COMPOSE_PROJECT]: project, [COMPOSE_VOLUME]: 'site' } });
  await runScript(engine, docker.image, [`${project}_site:/www`], siteSeed);
  await run('docker-compose', ['-p', project, 'up', '-d'], { cwd: dir, env: docker.env });
}

export async function composeDown(docker: DockerComponent, dir: string, project: string): Promise<void> {
  await run('docker-compose', ['-p', project, 'down', '-v'], { cwd: dir, env: docker.env });
}
