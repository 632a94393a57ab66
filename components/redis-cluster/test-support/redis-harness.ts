/**
 * Test harness: real redis-server processes on loopback, started through the real start.sh, with
 * the redis.conf of renderRedisConf() and the lifecycle scripts exactly as they are in the repo.
 *
 * Every node gets its own 127.0.0.x address (so the scripts see distinct "hosts") and its own port
 * from a range chosen by the test file; hostnames (redis-N.redis-headless.test) are mapped to the
 * addresses through a hosts(5) file passed as REDIS_HOSTS_FILE (the scripts' test seam).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderRedisConf } from '../redis-conf';

export const REPO_COMPONENTS = path.resolve(__dirname, '..', '..');
export const NODE_SCRIPTS_DIR = path.join(REPO_COMPONENTS, 'redis-cluster', 'scripts');
export const MANAGEMENT_SCRIPTS_DIR = path.join(REPO_COMPONENTS, 'cache-management', 'scripts');
export const ALL_SLOTS = 16384;

/** Fails (never skips) when a required binary is missing. */
export function requireBinaries(...names: string[]): void {
  const missing = names.filter((n) => spawnSync('sh', ['-c', `command -v ${n}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `required binaries not found: ${missing.join(', ')}. Run \`npm run setup\` ` +
        '(installs redis-server, redis-tools and shellcheck: apt-get install -y redis-server redis-tools shellcheck).',
    );
  }
}

/** Every .sh file of both script folders (the files the ConfigMaps ship). */
export function scriptFiles(): string[] {
  return [NODE_SCRIPTS_DIR, MANAGEMENT_SCRIPTS_DIR].flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.sh'))
      .sort()
      .map((f) => path.join(dir, f)),
  );
}

// Servers started by any harness of this process: killed on exit whatever happens.
const liveProcesses = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of liveProcesses) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a program with arguments (no shell), optional stdin, bounded by timeoutMs. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll fn until it returns a truthy value; throw with the description and last value on timeout. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}

export interface ClusterNodeEntry {
  id: string;
  ip: string;
  port: number;
  hostname: string;
  flags: string[];
  masterId: string;
  slots: string[];
}

export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const f = l.split(' ');
      const [addr, hostname = ''] = f[1].split(',');
      const hostPort = addr.split('@')[0];
      const i = hostPort.lastIndexOf(':');
      return {
        id: f[0],
        ip: hostPort.slice(0, i),
        port: Number(hostPort.slice(i + 1)),
        hostname,
        flags: f[2].split(','),
        masterId: f[3],
        slots: f.slice(8),
      };
    });
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Number of slots in CLUSTER NODES slot fields ("0-5460", "42"; "[..]" migration markers ignored). */
export function countSlots(slots: string[]): number {
  return slots
    .filter((s) => !s.startsWith('['))
    .reduce((n, s) => {
      const [a, b] = s.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
}

/** CRC16/XMODEM key slot with hash tags, as Redis Cluster computes it. */
export function keySlot(key: string): number {
  let k = Buffer.from(key);
  const open = k.indexOf('{');
  if (open >= 0) {
    const close = k.indexOf('}', open + 1);
    if (close > open + 1) k = k.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of k) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % ALL_SLOTS;
}

export interface NodeSpec {
  ordinal: number;
  hostname: string;
  ip: string;
  port: number;
  dir: string;
  dataDir: string;
  runDir: string;
  confPath: string;
  logPath: string;
  proc?: ChildProcess;
}

export interface HarnessOptions {
  /** Used in the temp dir name. */
  name: string;
  /** Port of node 0; node N listens on basePort + N (cluster bus: + 10000). Keep < 55535. */
  basePort: number;
  /** Last octet of node 0's address (127.0.0.<ipBase + N>). */
  ipBase: number;
  nodeTimeoutMs: number;
  password: string;
}

export class RedisHarness {
  readonly root: string;
  readonly scriptsDir: string;
  readonly hostsFile: string;
  private readonly nodes = new Map<number, NodeSpec>();

  constructor(readonly opts: HarnessOptions) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `redis-lifecycle-${opts.name}-`));
    // Production mounts both script folders in one directory (/scripts): mirror that with links
    // to the repository files themselves.
    this.scriptsDir = path.join(this.root, 'scripts');
    fs.mkdirSync(this.scriptsDir);
    for (const file of scriptFiles()) fs.symlinkSync(file, path.join(this.scriptsDir, path.basename(file)));
    this.hostsFile = path.join(this.root, 'hosts');
    this.writeHosts();
  }

  node(ordinal: number): NodeSpec {
    let n = this.nodes.get(ordinal);
    if (!n) {
      const dir = path.join(this.root, `redis-${ordinal}`);
      n = {
        ordinal,
        hostname: `redis-${ordinal}.redis-headless.test`,
        ip: `127.0.0.${this.opts.ipBase + ordinal}`,
        port: this.opts.basePort + ordinal,
        dir,
        dataDir: path.join(dir, 'data'),
        runDir: path.join(dir, 'run'),
        confPath: path.join(dir, 'redis.conf'),
        logPath: path.join(dir, 'redis.log'),
      };
      fs.mkdirSync(n.dataDir, { recursive: true });
      fs.mkdirSync(n.runDir, { recursive: true });
      this.nodes.set(ordinal, n);
    }
    return n;
  }

  /** hosts(5) file for the given ordinals (default: every node defined so far); written atomically. */
  writeHosts(ordinals?: number[]): void {
    const list = ordinals ?? [...this.nodes.keys()];
    const body = list.map((o) => `${this.node(o).ip}\t${this.node(o).hostname}`).join('\n');
    const tmp = `${this.hostsFile}.tmp`;
    fs.writeFileSync(tmp, `# test hosts file (REDIS_HOSTS_FILE)\n${body}\n`);
    fs.renameSync(tmp, this.hostsFile);
  }

  /** Move a (stopped) node to another loopback address, as a rescheduled pod would be. */
  setIp(ordinal: number, ip: string): void {
    this.node(ordinal).ip = ip;
  }

  /** renderRedisConf() with only port, dir, bind address and include path adapted. */
  writeConf(n: NodeSpec): void {
    const conf = renderRedisConf({
      port: n.port,
      maxmemoryBytes: 64 * 1024 * 1024,
      maxmemoryPolicy: 'allkeys-lru',
      nodeTimeoutMs: this.opts.nodeTimeoutMs,
      dataDir: n.dataDir,
      runtimeConfPath: path.join(n.runDir, 'runtime.conf'),
    });
    const bindLine = /^bind .*$/m;
    if (!bindLine.test(conf)) throw new Error('renderRedisConf() output has no bind line to adapt');
    // bind-source-addr: Redis 7 does not bind outgoing cluster-bus connections to the bind
    // address, so with several addresses on one loopback peers would see 127.0.0.1.
    fs.writeFileSync(n.confPath, conf.replace(bindLine, `bind ${n.ip}\nbind-source-addr ${n.ip}`));
  }

  baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? os.tmpdir(),
      LANG: 'C.UTF-8',
      REDIS_PASSWORD: this.opts.password,
      REDIS_HOSTS_FILE: this.hostsFile,
      ...extra,
    };
  }

  /** Start a node through start.sh (recovery included); resolves once the process is spawned. */
  start(ordinal: number, extraArgs: string[] = [], env: Record<string, string> = {}): NodeSpec {
    const n = this.node(ordinal);
    if (n.proc && n.proc.exitCode === null && n.proc.signalCode === null) throw new Error(`node ${ordinal} is already running`);
    this.writeConf(n);
    const log = fs.openSync(n.logPath, 'a');
    fs.writeSync(log, `\n==== ${new Date().toISOString()} start.sh ${extraArgs.join(' ')} (ip ${n.ip})\n`);
    const proc = spawn('bash', [path.join(this.scriptsDir, 'start.sh'), ...extraArgs], {
      env: this.baseEnv({
        REDIS_CONF: n.confPath,
        REDIS_DATA_DIR: n.dataDir,
        REDIS_RUN_DIR: n.runDir,
        REDIS_ANNOUNCE_HOSTNAME: n.hostname,
        REDIS_PORT: String(n.port),
        REDIS_RECOVERY_TIMEOUT_SECONDS: '20',
        ...env,
      }),
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    liveProcesses.add(proc);
    proc.on('exit', () => liveProcesses.delete(proc));
    n.proc = proc;
    return n;
  }

  isRunning(ordinal: number): boolean {
    const p = this.node(ordinal).proc;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** Send a signal and wait for the process to exit (SIGKILL after 10 s). */
  async stop(ordinal: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.node(ordinal).proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((o) => this.stop(o, signal)));
  }

  /** Stop everything and remove the temp dir (kept when REDIS_TEST_KEEP=1, for the logs). */
  async dispose(): Promise<void> {
    await this.stopAll();
    if (process.env.REDIS_TEST_KEEP === '1') {
      console.log(`kept ${this.root}`);
    } else {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  logTail(ordinal: number, lines = 30): string {
    try {
      return fs.readFileSync(this.node(ordinal).logPath, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** REDIS_NODES value ("hostname:port ...") for the given ordinals. */
  redisNodes(ordinals: number[]): string {
    return ordinals.map((o) => `${this.node(o).hostname}:${this.node(o).port}`).join(' ');
  }

  /** Run one of the lifecycle scripts (from the merged scripts dir) with the test environment. */
  runScript(script: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<RunResult> {
    return run('bash', [path.join(this.scriptsDir, script)], { env: this.baseEnv(env), timeoutMs });
  }

  /** redis-cli against a node, authenticated through REDISCLI_AUTH; returns stdout (CR stripped). */
  async cliAt(ip: string, port: number, args: string[], input?: string, password = this.opts.password): Promise<string> {
    const r = await run('redis-cli', ['-h', ip, '-p', String(port), ...args], {
      env: { PATH: process.env.PATH, REDISCLI_AUTH: password },
      input,
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')} on ${ip}:${port} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout.replace(/\r/g, '').replace(/\n$/, '');
  }

  cli(ordinal: number, ...args: string[]): Promise<string> {
    const n = this.node(ordinal);
    return this.cliAt(n.ip, n.port, args);
  }

  /** waitFor, with the log tails of the given nodes in the error. */
  async waitForNodes<T>(what: string, timeoutMs: number, ordinals: number[], fn: () => Promise<T>, intervalMs = 100): Promise<T> {
    try {
      return await waitFor(what, timeoutMs, fn, intervalMs);
    } catch (e) {
      const logs = ordinals.map((o) => `--- node ${o} (${this.isRunning(o) ? 'running' : 'NOT running'}):\n${this.logTail(o, 15)}`);
      throw new Error(`${(e as Error).message}\n${logs.join('\n')}`);
    }
  }

  async ping(ordinal: number): Promise<string> {
    try {
      return await this.cli(ordinal, 'PING');
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  async waitPong(ordinal: number, timeoutMs = 20_000): Promise<void> {
    try {
      await waitFor(`PONG from node ${ordinal}`, timeoutMs, async () => (await this.ping(ordinal)) === 'PONG');
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- log of node ${ordinal}:\n${this.logTail(ordinal)}`);
    }
  }

  async clusterInfo(ordinal: number): Promise<Record<string, string>> {
    return parseInfo(await this.cli(ordinal, 'CLUSTER', 'INFO'));
  }

  async clusterNodes(ordinal: number): Promise<ClusterNodeEntry[]> {
    return parseClusterNodes(await this.cli(ordinal, 'CLUSTER', 'NODES'));
  }

  async myId(ordinal: number): Promise<string> {
    return this.cli(ordinal, 'CLUSTER', 'MYID');
  }

  /** cluster_state:ok, all slots ok and `known` nodes, as seen by every given node. */
  async clusterOkEverywhere(ordinals: number[], known: number): Promise<boolean> {
    for (const o of ordinals) {
      const info = await this.clusterInfo(o);
      if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== String(ALL_SLOTS) || info.cluster_known_nodes !== String(known)) return false;
    }
    return true;
  }

  /** Slot -> "ip:port" of its master, from one node's CLUSTER NODES. */
  async slotOwners(ordinal: number): Promise<string[]> {
    const owners = new Array<string>(ALL_SLOTS).fill('');
    for (const e of await this.clusterNodes(ordinal)) {
      if (!e.flags.includes('master') || e.flags.includes('fail')) continue;
      for (const s of e.slots) {
        if (s.startsWith('[')) continue;
        const [a, b] = s.split('-').map(Number);
        for (let slot = a; slot <= (b ?? a); slot++) owners[slot] = `${e.ip}:${e.port}`;
      }
    }
    return owners;
  }

  /**
   * Run one command per key on the master owning its slot (redis-cli per master, commands on
   * stdin). `redis-cli -c` cannot be used: with cluster-preferred-endpoint-type hostname, MOVED
   * redirects name the test-only hostnames, which the system resolver does not know.
   */
  async perKey(viaOrdinal: number, keys: string[], command: (key: string) => string, trailer = ''): Promise<Map<string, string>> {
    const owners = await this.slotOwners(viaOrdinal);
    const groups = new Map<string, string[]>();
    for (const k of keys) {
      const owner = owners[keySlot(k)];
      if (!owner) throw new Error(`slot ${keySlot(k)} of ${k} has no master`);
      groups.set(owner, [...(groups.get(owner) ?? []), k]);
    }
    const replies = new Map<string, string>();
    await Promise.all(
      [...groups].map(async ([owner, ks]) => {
        const [ip, port] = owner.split(':');
        const out = await this.cliAt(ip, Number(port), [], ks.map(command).join('\n') + '\n' + trailer);
        const lines = out.split('\n');
        ks.forEach((k, i) => replies.set(k, lines[i]));
        if (trailer) replies.set(`__trailer__${owner}`, lines.slice(ks.length).join('\n'));
      }),
    );
    return replies;
  }

  /** SET prefix:i = value-i for i < count, then WAIT for `replicas` replicas on every master. */
  async writeKeys(viaOrdinal: number, prefix: string, count: number, replicas: number): Promise<string[]> {
    const keys = Array.from({ length: count }, (_, i) => `${prefix}:${i}`);
    const replies = await this.perKey(viaOrdinal, keys, (k) => `SET ${k} value-of-${k}`, replicas > 0 ? `WAIT ${replicas} 5000\n` : '');
    const bad = keys.filter((k) => replies.get(k) !== 'OK');
    if (bad.length > 0) throw new Error(`SET failed for ${bad.length} key(s), e.g. ${bad[0]}: ${replies.get(bad[0])}`);
    for (const [k, v] of replies) {
      if (k.startsWith('__trailer__') && Number(v) < replicas) throw new Error(`WAIT on ${k.slice(11)} acknowledged by ${v} replica(s)`);
    }
    return keys;
  }

  /** Keys whose GET does not return the value writeKeys stored. */
  async missingKeys(viaOrdinal: number, keys: string[]): Promise<string[]> {
    const replies = await this.perKey(viaOrdinal, keys, (k) => `GET ${k}`);
    return keys.filter((k) => replies.get(k) !== `value-of-${k}`);
  }

  /** Sum of DBSIZE over the live masters known by a node. */
  async totalKeys(viaOrdinal: number): Promise<number> {
    let total = 0;
    for (const e of await this.clusterNodes(viaOrdinal)) {
      if (e.flags.includes('master') && !e.flags.includes('fail')) total += Number(await this.cliAt(e.ip, e.port, ['DBSIZE']));
    }
    return total;
  }
}
