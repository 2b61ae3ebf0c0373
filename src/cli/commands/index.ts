import type { Command } from 'commander';

/**
 * Every CLI command is one module exporting `register(program)`. This table is the only place
 * that lists them, in the order `--help` shows them.
 */
export type RegisterCommand = (program: Command) => void;

export const commandModules: Array<() => Promise<{ register: RegisterCommand }>> = [
  () => import('./pack.js'),
  () => import('./inspect.js'),
  () => import('./verify.js'),
  () => import('./unpack.js'),
  () => import('./demo.js'),
  () => import('./images.js'),
  () => import('./key.js'),
  () => import('./convert.js'),
  () => import('./rollback.js'),
];
