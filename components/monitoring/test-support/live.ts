import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

/**
 * Real processes for the live monitoring test, on loopback only: every process is tracked and
 * killed by `stopAll` (SIGTERM, then SIGKILL), whatever happened in the test.
 */
export class Processes {
  private readonly children = new Map<string, ChildProcess>();

  constructor(private readonly logDir: string) {}

  public start(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    if (this.children.has(name)) throw new Error(`process ${name} already started`);
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), 'a');
    const child = spawn(command, [...args], { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    fs.closeSync(log);
    child.on('error', (e) => fs.appendFileSync(path.join(this.logDir, `${name}.log`), `spawn error: ${e.message}\n`));
    this.children.set(name, child);
    return child;
  }

  /** Stops one process and waits (bounded) for it to exit. */
  public async stop(name: string, timeoutMs = 5000): Promise<void> {
    const child = this.children.get(name);
    if (!child) return;
    this.children.delete(name);
    await terminate(child, timeoutMs);
  }

  public async stopAll(): Promise<void> {
    const all = [...this.children.values()];
    this.children.clear();
    await Promise.all(all.map((c) => terminate(c, 5000)));
  }

  public log(name: string): string {
    const file = path.join(this.logDir, `${name}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-4000) : '';
  }
}

async function terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

/** Fails when something already listens on one of the ports (another test or process). */
export async function assertPortsFree(ports: readonly number[]): Promise<void> {
  const busy: number[] = [];
  await Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve) => {
          const server = net.createServer();
          server.once('error', () => {
            busy.push(port);
            resolve();
          });
          server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
        }),
    ),
  );
  if (busy.length) throw new Error(`ports already in use on 127.0.0.1: ${busy.sort().join(', ')}`);
}

export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; then throws with `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** redis-cli against one node, authenticated through the environment (never on the command line). */
export function redisCli(port: number, password: string, args: readonly string[], input?: string): string {
  const res = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, REDISCLI_AUTH: password },
    timeout: 30_000,
  });
  if (res.status !== 0) throw new Error(`redis-cli -p ${port} ${args.join(' ')} failed: ${res.stderr}${res.stdout}`);
  return res.stdout;
}

/** `INFO`/`CLUSTER INFO` output as a map. */
export function parseInfo(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((l) => l.includes(':') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}
