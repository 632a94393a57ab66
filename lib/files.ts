import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const cache = new Map<string, string>();

/** Reads a file shipped beside a component (scripts, templates); each file is read once per process. */
export function readComponentFile(dir: string, name: string): string {
  const full = path.join(dir, name);
  let text = cache.get(full);
  if (text === undefined) {
    text = fs.readFileSync(full, 'utf8');
    cache.set(full, text);
  }
  return text;
}

/** Name -> content of the given files, for a ConfigMap. */
export function readScripts(dir: string, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, readComponentFile(dir, name)]));
}

/** Stable content hash for pod-template annotations, so config changes roll the pods. */
export function contentHash(...parts: unknown[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? part : JSON.stringify(part));
  return hash.digest('hex').slice(0, 16);
}
