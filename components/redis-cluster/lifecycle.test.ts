/**
 * Redis Cluster lifecycle scripts (components/redis-cluster/scripts, components/cache-management/
 * scripts) against real redis-server processes on loopback addresses.
 *
 * Needs redis-server, redis-cli (Debian bookworm: Redis 7.0) and shellcheck: `npm run setup`.
 * The tests FAIL (they never skip) when those are missing.
 *
 * Ports used by this file: 23100-23199 (cluster bus 33100-33199); addresses 127.0.0.101-199.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  ALL_SLOTS,
  ClusterNodeEntry,
  countSlots,
  keySlot,
  parseInfo,
  RedisHarness,
  requireBinaries,
  run,
  waitFor,
} from './test-support/redis-harness';

const NODE_TIMEOUT_MS = 2000;
// Deliberately awkward: quotes, spaces, '#', '$' and a backslash must survive redis.conf and redis-cli.
// Generated per run; the quotes, '#', '$' and backslash prove the scripts' escaping.
const PASSWORD = `c0rrect "${randomBytes(6).toString('hex')}" #battery $staple\\`;

jest.setTimeout(120_000);

function mastersOf(nodes: ClusterNodeEntry[]): ClusterNodeEntry[] {
  return nodes.filter((n) => n.flags.includes('master') && !n.flags.includes('fail'));
}

/** id -> sorted slot ranges of every master that owns slots: a comparable slot map. */
function slotMap(nodes: ClusterNodeEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of mastersOf(nodes)) if (m.slots.length > 0) out[m.id] = [...m.slots].sort().join(' ');
  return out;
}

/** Problems with "every master owning slots has `want` replicas on another IP". */
function replicaLayoutProblems(nodes: ClusterNodeEntry[], want: number): string[] {
  const problems: string[] = [];
  for (const m of mastersOf(nodes).filter((n) => n.slots.length > 0)) {
    const replicas = nodes.filter((r) => r.flags.includes('slave') && !r.flags.includes('fail') && r.masterId === m.id);
    const elsewhere = replicas.filter((r) => r.ip !== m.ip);
    if (elsewhere.length < want) problems.push(`${m.hostname} (${m.ip}) has ${elsewhere.length} replica(s) on another host`);
  }
  return problems;
}

function expectExit(r: { code: number | null; stdout: string; stderr: string }, code: number | 'nonzero'): void {
  const ok = code === 'nonzero' ? r.code !== 0 && r.code !== null : r.code === code;
  if (!ok) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('Redis Cluster lifecycle: 3 masters x 1 replica', () => {
  let h: RedisHarness;
  const ALL6 = [0, 1, 2, 3, 4, 5];
  const clusterEnv = () => ({
    REDIS_NODES: h.redisNodes(ALL6),
    REDIS_MASTERS: '3',
    REDIS_REPLICAS_PER_MASTER: '1',
    REDIS_WAIT_TIMEOUT_SECONDS: '60',
  });
  const timings: Record<string, number[]> = { failoverMs: [], fullRestartMs: [] };
  let idsAfterBootstrap: string[] = [];
  let writtenKeys: string[] = [];

  beforeAll(async () => {
    requireBinaries('redis-server', 'redis-cli');
    h = new RedisHarness({ name: 'main', basePort: 23100, ipBase: 101, nodeTimeoutMs: NODE_TIMEOUT_MS, password: PASSWORD });
    for (const o of ALL6) h.node(o);
    h.writeHosts();
    for (const o of ALL6) h.start(o);
    for (const o of ALL6) await h.waitPong(o);
  });

  afterAll(async () => {
    console.log(`lifecycle timings (ms): ${JSON.stringify(timings)}`);
    await h?.dispose();
  });

  test('probes before bootstrap: liveness passes, readiness fails (cluster not formed)', async () => {
    const n = h.node(0);
    const env = { REDIS_HOST: n.ip, REDIS_PORT: String(n.port) };
    const live = await h.runScript('liveness.sh', env);
    expectExit(live, 0);
    const ready = await h.runScript('readiness.sh', env);
    expectExit(ready, 'nonzero');
    expect(ready.stdout.trim().split('\n')).toHaveLength(1);
    expect(ready.stdout).toMatch(/not ready: cluster_state:fail/);
  });

  test('bootstrap.sh forms the cluster; a second run changes nothing', async () => {
    const first = await h.runScript('bootstrap.sh', clusterEnv());
    expectExit(first, 0);
    expect(first.stderr).toMatch(/cluster formed: cluster_state:ok/);

    expect(await h.clusterOkEverywhere(ALL6, 6)).toBe(true);
    const nodes = await h.clusterNodes(0);
    expect(nodes).toHaveLength(6);
    const masters = mastersOf(nodes);
    expect(masters).toHaveLength(3);
    expect(masters.reduce((n, m) => n + countSlots(m.slots), 0)).toBe(ALL_SLOTS);
    expect(replicaLayoutProblems(nodes, 1)).toEqual([]);
    // Hostnames are gossiped and persisted: start.sh's recovery depends on them.
    for (const o of ALL6) {
      const conf = fs.readFileSync(path.join(h.node(o).dataDir, 'nodes.conf'), 'utf8');
      const lines = conf.split('\n').filter((l) => l && !l.startsWith('vars'));
      expect(lines).toHaveLength(6);
      for (const l of lines) expect(l.split(' ')[1]).toMatch(/,redis-\d\.redis-headless\.test/);
    }

    idsAfterBootstrap = await Promise.all(ALL6.map((o) => h.myId(o)));
    const mapBefore = slotMap(nodes);

    const second = await h.runScript('bootstrap.sh', clusterEnv());
    expectExit(second, 0);
    expect(second.stderr).toMatch(/cluster already formed/);
    expect(second.stderr).not.toMatch(/creating the cluster/);
    expect(await Promise.all(ALL6.map((o) => h.myId(o)))).toEqual(idsAfterBootstrap);
    expect(slotMap(await h.clusterNodes(0))).toEqual(mapBefore);
    expect(await h.clusterOkEverywhere(ALL6, 6)).toBe(true);
  });

  test('probes after bootstrap: readiness and liveness pass on every node', async () => {
    for (const o of ALL6) {
      const env = { REDIS_HOST: h.node(o).ip, REDIS_PORT: String(h.node(o).port) };
      expectExit(await h.runScript('readiness.sh', env), 0);
      expectExit(await h.runScript('liveness.sh', env), 0);
    }
  });

  test('check.sh passes on the healthy cluster', async () => {
    const r = await h.runScript('check.sh', { REDIS_NODES: h.redisNodes(ALL6) });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/HEALTHY/);
  });

  test('failover (3 rounds, each master once): its replica takes over within 2 x node-timeout + slack; keys survive', async () => {
    // Our own CRC16 agrees with the server.
    for (const k of ['a', 'key:1', '{user}:42', 'x{}y']) expect(String(keySlot(k))).toBe(await h.cli(0, 'CLUSTER', 'KEYSLOT', k));
    writtenKeys = await h.writeKeys(0, 'before-failover', 300, 1);
    const killed = new Set<number>();

    for (let round = 1; round <= 3; round++) {
      const nodes = await h.clusterNodes(0);
      const byIp = new Map(ALL6.map((o) => [h.node(o).ip, o]));
      const victimEntry = mastersOf(nodes).find((m) => !killed.has(byIp.get(m.ip)!))!;
      const victim = byIp.get(victimEntry.ip)!;
      const replica = byIp.get(nodes.find((n) => n.masterId === victimEntry.id)!.ip)!;
      const survivors = ALL6.filter((o) => o !== victim);
      killed.add(victim);

      const t0 = Date.now();
      await h.stop(victim, 'SIGKILL');
      await h.waitForNodes(`round ${round}: replica promotion and cluster_state:ok`, 4 * NODE_TIMEOUT_MS + 10_000, survivors, async () => {
        const role = parseInfo(await h.cli(replica, 'INFO', 'replication')).role;
        if (role !== 'master') return false;
        for (const o of survivors) {
          const info = await h.clusterInfo(o);
          if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== String(ALL_SLOTS)) return false;
        }
        return true;
      }, 50);
      const failoverMs = Date.now() - t0;
      timings.failoverMs.push(failoverMs);
      console.log(`failover round ${round}: master ${h.node(victim).hostname} killed, ${h.node(replica).hostname} promoted, cluster ok after ${failoverMs} ms (node timeout ${NODE_TIMEOUT_MS} ms)`);
      expect(failoverMs).toBeLessThanOrEqual(2 * NODE_TIMEOUT_MS + 3000);
      expect(await h.missingKeys(replica, writtenKeys)).toEqual([]);

      if (round === 1) {
        // Re-running bootstrap.sh while a pod is down neither waits for it nor creates anything.
        const rerun = await h.runScript('bootstrap.sh', clusterEnv());
        expectExit(rerun, 0);
        expect(rerun.stderr).toMatch(/cluster already formed/);
        expect(rerun.stderr).toMatch(new RegExp(`node ${h.node(victim).hostname.replace(/\./g, '\\.')}:\\d+ \\([\\d.]+\\) is not reachable right now`));
        expect(rerun.ms).toBeLessThan(10_000);
      }

      // The old master comes back through start.sh and rejoins as a replica of its successor.
      h.start(victim);
      await h.waitPong(victim);
      await h.waitForNodes(`round ${round}: old master rejoining as a replica`, 30_000, ALL6, async () => {
        const info = parseInfo(await h.cli(victim, 'INFO', 'replication'));
        return info.role === 'slave' && info.master_link_status === 'up' && (await h.clusterOkEverywhere(ALL6, 6));
      });
      expect(await h.myId(victim)).toBe(idsAfterBootstrap[victim]);
      expect(replicaLayoutProblems(await h.clusterNodes(0), 1)).toEqual([]);
    }
    expect(await h.missingKeys(0, writtenKeys)).toEqual([]);
    console.log(`failover: median ${median(timings.failoverMs)} ms over ${timings.failoverMs.join(', ')} ms`);
  });

  test('full restart on new addresses (3 rounds): start.sh recovery brings the same cluster back without bootstrap', async () => {
    for (let round = 1; round <= 3; round++) {
      expect(await Promise.all(ALL6.map((o) => h.myId(o)))).toEqual(idsAfterBootstrap);
      const oldIps = new Set(ALL6.map((o) => h.node(o).ip));

      await h.stopAll('SIGTERM');
      for (const o of ALL6) h.setIp(o, `127.0.0.${101 + 10 * round + o}`);
      const newIps = new Set(ALL6.map((o) => h.node(o).ip));
      // Pods start in parallel and DNS publishes them one by one: only half the names resolve at first.
      h.writeHosts([0, 1, 2]);

      const t0 = Date.now();
      for (const o of ALL6) h.start(o);
      await new Promise((r) => setTimeout(r, 1000));
      h.writeHosts(ALL6);
      const tDns = Date.now();
      await h.waitForNodes(`round ${round}: cluster_state:ok on every node after the restart`, 60_000, ALL6, () => h.clusterOkEverywhere(ALL6, 6), 50);
      const recoveryMs = Date.now() - t0;
      timings.fullRestartMs.push(recoveryMs);
      console.log(`full restart round ${round}: cluster ok ${recoveryMs} ms after the processes started (${Date.now() - tDns} ms after every name resolved)`);

      expect(await Promise.all(ALL6.map((o) => h.myId(o)))).toEqual(idsAfterBootstrap);
      const nodes = await h.clusterNodes(0);
      expect(nodes).toHaveLength(6);
      for (const n of nodes) {
        expect(newIps.has(n.ip)).toBe(true);
        expect(oldIps.has(n.ip)).toBe(false);
      }
      expect(replicaLayoutProblems(nodes, 1)).toEqual([]);
      for (const o of ALL6) {
        const n = h.node(o);
        expect(fs.readdirSync(n.dataDir).some((f) => f.startsWith('nodes.conf.bak-'))).toBe(true);
        expect(fs.readFileSync(n.logPath, 'utf8')).toContain(`${n.hostname} ${[...oldIps][o]} -> ${n.ip}`);
        // No scratch files left next to nodes.conf.
        expect(fs.readdirSync(n.dataDir).filter((f) => /\.(map|changes|recover)\./.test(f))).toEqual([]);
      }
    }
    console.log(`full restart: median ${median(timings.fullRestartMs)} ms over ${timings.fullRestartMs.join(', ')} ms`);
  });

  test('scale up to 4 masters: reconcile.sh joins a master and a replica and rebalances; no key lost', async () => {
    const keys = await h.writeKeys(0, 'before-scale-up', 400, 1);
    const before = await h.totalKeys(0);
    expect(before).toBeGreaterThanOrEqual(400);

    h.node(6);
    h.node(7);
    h.setIp(6, '127.0.0.137');
    h.setIp(7, '127.0.0.138');
    h.writeHosts([0, 1, 2, 3, 4, 5, 6, 7]);
    h.start(6);
    h.start(7);
    await h.waitPong(6);
    await h.waitPong(7);

    const ALL8 = [0, 1, 2, 3, 4, 5, 6, 7];
    const env = { REDIS_NODES: h.redisNodes(ALL8), REDIS_MASTERS: '4', REDIS_REPLICAS_PER_MASTER: '1', REDIS_WAIT_TIMEOUT_SECONDS: '60' };
    const r = await h.runScript('reconcile.sh', env, 170_000);
    expectExit(r, 0);
    console.log(`reconcile.sh (2 nodes added, rebalance) took ${r.ms} ms`);

    expect(await h.clusterOkEverywhere(ALL8, 8)).toBe(true);
    const nodes = await h.clusterNodes(0);
    const masters = mastersOf(nodes);
    expect(masters).toHaveLength(4);
    for (const m of masters) expect(countSlots(m.slots)).toBeGreaterThan(3500);
    const newMaster = nodes.find((n) => n.hostname === h.node(6).hostname)!;
    expect(newMaster.flags).toContain('master');
    const newReplica = nodes.find((n) => n.hostname === h.node(7).hostname)!;
    expect(newReplica.flags).toContain('slave');
    expect(newReplica.masterId).toBe(newMaster.id);
    expect(replicaLayoutProblems(nodes, 1)).toEqual([]);

    expect(await h.totalKeys(0)).toBe(before);
    expect(await h.missingKeys(0, keys)).toEqual([]);

    // Idempotent: a second run changes nothing.
    const mapBefore = slotMap(nodes);
    const again = await h.runScript('reconcile.sh', env);
    expectExit(again, 0);
    expect(again.stderr).toMatch(/nothing to do/);
    expect(again.stderr).not.toMatch(/adding |Moving /);
    expect(slotMap(await h.clusterNodes(0))).toEqual(mapBefore);

    // Health check with snapshot: every master writes an RDB.
    const check = await h.runScript('check.sh', { REDIS_NODES: h.redisNodes(ALL8), REDIS_SNAPSHOT: 'true', REDIS_SNAPSHOT_TIMEOUT_SECONDS: '60' });
    expectExit(check, 0);
    expect(check.stderr).toMatch(/snapshot done on 4 master\(s\)/);
    for (const m of masters) {
      const o = ALL8.find((x) => h.node(x).ip === m.ip)!;
      expect(fs.existsSync(path.join(h.node(o).dataDir, 'dump.rdb'))).toBe(true);
    }
  }, 180_000);

  test('check.sh and reconcile.sh notice an open slot; reconcile.sh fixes it', async () => {
    const nodes = await h.clusterNodes(0);
    const [a, b] = mastersOf(nodes);
    const slot = a.slots[0].split('-')[0];
    await h.cliAt(a.ip, a.port, ['CLUSTER', 'SETSLOT', slot, 'MIGRATING', b.id]);

    const env8 = { REDIS_NODES: h.redisNodes([0, 1, 2, 3, 4, 5, 6, 7]) };
    const bad = await h.runScript('check.sh', env8);
    expectExit(bad, 'nonzero');
    expect(bad.stderr).toMatch(/UNHEALTHY: .*open slots/);

    const fix = await h.runScript('reconcile.sh', { ...env8, REDIS_MASTERS: '4', REDIS_REPLICAS_PER_MASTER: '1', REDIS_WAIT_TIMEOUT_SECONDS: '60' });
    expectExit(fix, 0);
    expect(fix.stderr).toMatch(/open slots found: running redis-cli --cluster fix/);
    expectExit(await h.runScript('check.sh', env8), 0);
  });
});

describe('probes on a single node', () => {
  let h: RedisHarness;

  beforeAll(async () => {
    requireBinaries('redis-server', 'redis-cli');
    h = new RedisHarness({ name: 'probes', basePort: 23140, ipBase: 141, nodeTimeoutMs: NODE_TIMEOUT_MS, password: PASSWORD });
    h.node(0);
    h.writeHosts();
  });

  afterAll(async () => {
    await h?.dispose();
  });

  test('liveness.sh passes while the dataset is LOADING, readiness.sh does not; liveness fails when the server is gone', async () => {
    const n = h.node(0);
    const env = { REDIS_HOST: n.ip, REDIS_PORT: String(n.port) };
    h.start(0, ['--enable-debug-command', 'yes']);
    await h.waitPong(0);
    expect(await h.cli(0, 'DEBUG', 'POPULATE', '20000', 'probe', '64')).toBe('OK');
    expect(await h.cli(0, 'SAVE')).toBe('OK');
    await h.stop(0, 'SIGKILL');

    // Slow loading down (test-only knobs): 20000 keys x 200 us = about 4 s of LOADING, and keep
    // answering clients while loading.
    h.start(0, ['--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024']);
    await waitFor('a LOADING reply', 20_000, async () => (await h.ping(0)).startsWith('LOADING'), 20);

    const live = await h.runScript('liveness.sh', env);
    const ready = await h.runScript('readiness.sh', env);
    // Still loading after both probes ran, so they really saw LOADING.
    expect((await h.ping(0)).startsWith('LOADING')).toBe(true);
    expectExit(live, 0);
    expect(live.stdout).toMatch(/alive: loading/);
    expectExit(ready, 'nonzero');
    expect(ready.stdout).toMatch(/not ready: PING .*LOADING/);

    await h.waitPong(0, 60_000);
    expect(await h.cli(0, 'DBSIZE')).toBe('20000');
    expectExit(await h.runScript('liveness.sh', env), 0);

    await h.stop(0, 'SIGKILL');
    const dead = await h.runScript('liveness.sh', env);
    expectExit(dead, 'nonzero');
    expect(dead.stdout.trim()).toMatch(/^not alive: PING to .* failed/);
    expect(dead.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('start.sh recovery keeps unresolvable names, handles Redis 7.2 aux fields, backs up, never deletes nodes.conf', async () => {
    const n = h.node(5); // a fresh data dir
    const nodesConf = path.join(n.dataDir, 'nodes.conf');
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const c = 'c'.repeat(40);
    const original = [
      `${a} 10.0.0.1:6379@16379,${n.hostname},shard-id=${'1'.repeat(40)} myself,master - 0 0 1 connected 0-8191`,
      `${b} 10.0.0.2:6379@16379,redis-1.redis-headless.test master - 0 1700000000000 2 connected 8192-16383`,
      `${c} 10.0.0.3:6379@16379,gone-9.redis-headless.test slave ${a} 0 1700000000000 1 connected`,
      'vars currentEpoch 2 lastVoteEpoch 0',
      '',
    ].join('\n');
    fs.writeFileSync(nodesConf, original);
    h.writeHosts([5]);
    fs.appendFileSync(h.hostsFile, '127.0.0.142\tredis-1.redis-headless.test\n');
    // "--bogus-directive" makes redis-server exit right after start.sh has done its work.
    h.start(5, ['--bogus-directive', 'yes'], { REDIS_RECOVERY_TIMEOUT_SECONDS: '2' });
    await waitFor('redis-server to refuse the bogus directive', 20_000, async () => !h.isRunning(5));

    const rewritten = fs.readFileSync(nodesConf, 'utf8');
    expect(rewritten).toBe(
      original
        .replace('10.0.0.1:6379@16379,', `${n.ip}:6379@16379,`)
        .replace('10.0.0.2:6379@16379,redis-1', '127.0.0.142:6379@16379,redis-1'),
    );
    const backups = fs.readdirSync(n.dataDir).filter((f) => f.startsWith('nodes.conf.bak-'));
    expect(backups).toHaveLength(1);
    expect(fs.readFileSync(path.join(n.dataDir, backups[0]), 'utf8')).toBe(original);
    const log = fs.readFileSync(n.logPath, 'utf8');
    expect(log).toMatch(/gone-9\.redis-headless\.test did not resolve within 2s; keeping its old address/);
    expect(log).toMatch(/recovery: myself aaaaaaaaaaaa redis-5\.redis-headless\.test 10\.0\.0\.1 -> 127\.0\.0\.146/);
    const runtime = path.join(n.runDir, 'runtime.conf');
    expect(fs.statSync(runtime).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(runtime, 'utf8')).toMatch(/^cluster-announce-hostname redis-5\.redis-headless\.test$/m);
    expect(fs.readFileSync(runtime, 'utf8')).not.toContain('horse'); // hex-escaped, never in clear
  });
});

describe('bad conditions', () => {
  let h: RedisHarness;
  const ALL = [0, 1, 2, 3];
  const DESTRUCTIVE = /cmdstat_(flushall|flushdb|cluster\|reset|cluster\|forget)\b/;

  beforeAll(async () => {
    requireBinaries('redis-server', 'redis-cli');
    h = new RedisHarness({ name: 'bad', basePort: 23160, ipBase: 161, nodeTimeoutMs: NODE_TIMEOUT_MS, password: PASSWORD });
    for (const o of [...ALL, 4]) h.node(o);
    h.writeHosts(); // node 4 resolves but is never started: unreachable
    for (const o of ALL) h.start(o, ['--enable-debug-command', 'yes']);
    for (const o of ALL) await h.waitPong(o);
    // Node 0 holds data while it is in no cluster.
    expect(await h.cli(0, 'DEBUG', 'POPULATE', '50', 'precious', '16')).toBe('OK');
  });

  afterAll(async () => {
    await h?.dispose();
  });

  const env3 = (ordinals: number[], extra: Record<string, string> = {}) => ({
    REDIS_NODES: h.redisNodes(ordinals),
    REDIS_MASTERS: '3',
    REDIS_REPLICAS_PER_MASTER: '0',
    REDIS_WAIT_TIMEOUT_SECONDS: '3',
    ...extra,
  });

  test('wrong password: every script fails fast with a clear message', async () => {
    const wrong = { REDIS_PASSWORD: randomBytes(12).toString('hex') };
    for (const script of ['bootstrap.sh', 'reconcile.sh', 'check.sh']) {
      const r = await h.runScript(script, { ...env3([0, 1, 2]), ...wrong });
      expectExit(r, 'nonzero');
      expect(r.stderr).toMatch(/authentication failed on redis-\d\.redis-headless\.test:\d+ .*check REDIS_PASSWORD/);
      expect(r.ms).toBeLessThan(10_000);
    }
    const probeEnv = { REDIS_HOST: h.node(0).ip, REDIS_PORT: String(h.node(0).port), ...wrong };
    const ready = await h.runScript('readiness.sh', probeEnv);
    expectExit(ready, 'nonzero');
    expect(ready.stdout).toMatch(/not ready: PING .*(NOAUTH|WRONGPASS)/);
    const live = await h.runScript('liveness.sh', probeEnv);
    expectExit(live, 'nonzero');
    expect(live.stdout).toMatch(/not alive: .*(NOAUTH|WRONGPASS)/);
    const noPassword = await run('bash', [path.join(h.scriptsDir, 'bootstrap.sh')], { env: { PATH: process.env.PATH, ...env3([0, 1, 2]) } });
    expectExit(noPassword, 'nonzero');
    expect(noPassword.stderr).toMatch(/REDIS_PASSWORD is not set/);
  });

  test('unreachable or unresolvable node: bootstrap.sh gives up after the bounded wait and names it', async () => {
    const r = await h.runScript('bootstrap.sh', env3([1, 2, 4]));
    expectExit(r, 'nonzero');
    expect(r.stderr).toMatch(/node redis-4\.redis-headless\.test:23164 \(127\.0\.0\.165\): no PONG: Could not connect/);
    expect(r.stderr).toMatch(/not every node is reachable after 3s/);

    const unresolvable = await h.runScript('bootstrap.sh', { ...env3([1, 2, 3]), REDIS_NODES: `${h.redisNodes([1, 2])} redis-9.redis-headless.test:23169` });
    expectExit(unresolvable, 'nonzero');
    expect(unresolvable.stderr).toMatch(/node redis-9\.redis-headless\.test:23169: does not resolve/);
    // Nothing was formed.
    for (const o of [1, 2, 3]) expect((await h.clusterInfo(o)).cluster_known_nodes).toBe('1');
  });

  test('a node holding data: bootstrap.sh refuses, reconcile.sh refuses to join it; the data is untouched', async () => {
    const refused = await h.runScript('bootstrap.sh', env3([0, 1, 2]));
    expectExit(refused, 'nonzero');
    expect(refused.stderr).toMatch(/redis-0\.redis-headless\.test:23160 \(127\.0\.0\.161\) holds 50 key\(s\)/);
    expect(refused.stderr).toMatch(/refusing to create the cluster/);
    for (const o of [1, 2]) expect((await h.clusterInfo(o)).cluster_known_nodes).toBe('1');

    // A cluster of the three empty nodes forms fine; reconcile.sh then must not absorb node 0.
    expectExit(await h.runScript('bootstrap.sh', env3([1, 2, 3], { REDIS_WAIT_TIMEOUT_SECONDS: '60' })), 0);
    const before = await h.clusterNodes(1);
    const reconcile = await h.runScript('reconcile.sh', env3([1, 2, 3, 0], { REDIS_MASTERS: '4' }));
    expectExit(reconcile, 'nonzero');
    expect(reconcile.stderr).toMatch(/redis-0\.redis-headless\.test:23160 \(127\.0\.0\.161\) is not in the cluster but holds 50 key\(s\)/);
    expect(reconcile.stderr).toMatch(/refusing to reconcile/);
    expect((await h.clusterNodes(1)).map((n) => n.id).sort()).toEqual(before.map((n) => n.id).sort());

    expect(await h.cli(0, 'DBSIZE')).toBe('50');
    expect((await h.clusterInfo(0)).cluster_known_nodes).toBe('1');
    for (const o of ALL) expect(await h.cli(o, 'INFO', 'commandstats')).not.toMatch(DESTRUCTIVE);

    // check.sh: healthy through the formed cluster, unhealthy through the lone node.
    expectExit(await h.runScript('check.sh', { REDIS_NODES: h.redisNodes([1, 2, 3]) }), 0);
    const lone = await h.runScript('check.sh', { REDIS_NODES: h.redisNodes([0]) });
    expectExit(lone, 'nonzero');
    expect(lone.stderr).toMatch(/UNHEALTHY: .*cluster_state:fail/);
  });
});
