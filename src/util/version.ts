import { readFileSync } from 'node:fs';

/** The tool version recorded in every manifest: package.json's, read once. */
export const toolVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
