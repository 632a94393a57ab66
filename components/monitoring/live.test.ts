import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';
import { newChart, ofKind, synth } from '../../test/synth-helpers';
import { RedisCluster, renderRedisConf } from '../redis-cluster';
import { Monitoring } from '.';
import { dashboardQueries } from './dashboards';
import { REDIS_EXPORTER } from './metric-catalog';
import { expandGrafanaVariables, metricNames } from './promql';
import { clusterPrometheus } from './test-support/fixtures';
import { assertPortsFree, commandExists, httpGet, parseInfo, Processes, redisCli, sleep, waitFor } from './test-support/live';
import { scratchDir } from './test-support/promtool';

/**
 * A real Prometheus scrapes real prometheus-redis-exporters in front of a real 3-master/3-replica
 * Redis Cluster (configured by the RedisCluster construct's redis.conf), with the rules this program
 * generates. Healthy: no alert, every dashboard query has data. Then a whole shard and another
 * master are stopped and the exporter-down and cluster alerts must fire. Loopback only; the ports
 * below are used by no other test file.
 */
const REDIS_BASE_PORT = 17410;
const EXPORTER_BASE_PORT = 19410;
const PROMETHEUS_PORT = 19490;
const NODES = 6;
const REGION = 'live-test';
const ENVIRONMENT = 'staging';
/** Pending time of every rule in this test; the generated rules wait minutes, which a test cannot. */
const TEST_FOR = '3s';

const redisPort = (i: number) => REDIS_BASE_PORT + i;
const exporterPort = (i: number) => EXPORTER_BASE_PORT + i;
const promUrl = (p: string) => `http://127.0.0.1:${PROMETHEUS_PORT}${p}`;

interface AlertInfo {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await httpGet(promUrl(`/api/v1/query?query=${encodeURIComponent(expr)}`));
  const body = JSON.parse(res.body) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data!.result;
}

async function alerts(): Promise<AlertInfo[]> {
  const res = await httpGet(promUrl('/api/v1/alerts'));
  return (JSON.parse(res.body) as { data: { alerts: AlertInfo[] } }).data.alerts;
}

describe('live: Prometheus + redis_exporter + Redis Cluster with the generated rules', () => {
  const scratch = scratchDir('monitoring-live');
  const procs = new Processes(scratch.dir);
  const password = randomBytes(24).toString('hex');
  let monitoring: Monitoring;
  let rulesYaml: string;

  beforeAll(async () => {
    for (const cmd of ['redis-server', 'redis-cli', 'prometheus', 'prometheus-redis-exporter']) {
      if (!commandExists(cmd)) throw new Error(`${cmd} is missing: run bash scripts/setup.sh`);
    }
    const all = Array.from({ length: NODES }, (_, i) => i);
    await assertPortsFree([...all.map(redisPort), ...all.map((i) => redisPort(i) + 10000), ...all.map(exporterPort), PROMETHEUS_PORT]);

    const chart = newChart(REGION);
    const redis = new RedisCluster(chart, 'redis', { masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2000 });
    monitoring = new Monitoring(chart, 'monitoring', { region: REGION, environment: ENVIRONMENT, prometheus: clusterPrometheus, redis });
    // The rules as prometheus-operator loads them: the PrometheusRule objects' spec.groups.
    const groups = ofKind(synth(chart), 'PrometheusRule').flatMap((r) => (r.spec as { groups: { name: string; rules: { for?: string }[] }[] }).groups);
    rulesYaml = stringify({ groups: groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, for: TEST_FOR })) })) }, { lineWidth: 0 });

    // Redis Cluster members, each with the construct's redis.conf and a loopback-only runtime include.
    for (const i of all) {
      const dir = path.join(scratch.dir, `redis-${i}`);
      fs.mkdirSync(dir);
      const runtime = path.join(dir, 'runtime.conf');
      fs.writeFileSync(runtime, [`bind 127.0.0.1`, `port ${redisPort(i)}`, `requirepass ${password}`, `masterauth ${password}`, 'cluster-preferred-endpoint-type ip', ''].join('\n'), { mode: 0o600 });
      const conf = renderRedisConf({ port: redisPort(i), maxmemoryBytes: 64 * 2 ** 20, maxmemoryPolicy: 'allkeys-lru', nodeTimeoutMs: 2000, dataDir: dir, runtimeConfPath: runtime });
      fs.writeFileSync(path.join(dir, 'redis.conf'), conf);
      procs.start(`redis-${i}`, 'redis-server', [path.join(dir, 'redis.conf')]);
    }
    await waitFor('redis members answering', 20_000, async () => (all.every((i) => { try { return redisCli(redisPort(i), password, ['PING']).trim() === 'PONG'; } catch { return false; } }) ? true : undefined));
    redisCli(redisPort(0), password, ['--cluster', 'create', ...all.map((i) => `127.0.0.1:${redisPort(i)}`), '--cluster-replicas', '1', '--cluster-yes']);
    await waitFor('cluster ok with linked replicas', 30_000, async () => {
      const ok = all.every((i) => {
        const cluster = parseInfo(redisCli(redisPort(i), password, ['CLUSTER', 'INFO']));
        const repl = parseInfo(redisCli(redisPort(i), password, ['INFO', 'replication']));
        return cluster.cluster_state === 'ok' && (repl.role === 'master' || repl.master_link_status === 'up');
      });
      return ok ? true : undefined;
    });
    // Some data, so hit ratio, keys and command panels have something to show.
    const commands = [
      ...Array.from({ length: 200 }, (_, k) => `SET fp:device:${k} x EX 3600`),
      ...Array.from({ length: 50 }, (_, k) => `GET fp:device:${k * 7}`),
    ];
    redisCli(redisPort(0), password, ['-c'], `${commands.join('\n')}\n`);

    for (const i of all) {
      procs.start(`exporter-${i}`, 'prometheus-redis-exporter', ['-redis.addr', `redis://127.0.0.1:${redisPort(i)}`, '-web.listen-address', `127.0.0.1:${exporterPort(i)}`], { REDIS_PASSWORD: password });
    }

    const promDir = path.join(scratch.dir, 'prometheus');
    fs.mkdirSync(promDir);
    fs.writeFileSync(path.join(promDir, 'rules.yml'), rulesYaml);
    fs.writeFileSync(
      path.join(promDir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        rule_files: ['rules.yml'],
        scrape_configs: [
          {
            // The labels the PodMonitor gives the targets in a cluster (job by relabeling, namespace and pod by discovery).
            job_name: 'redis-exporter',
            static_configs: all.map((i) => ({ targets: [`127.0.0.1:${exporterPort(i)}`], labels: { namespace: 'cache', pod: `redis-${i}`, region: REGION, environment: ENVIRONMENT } })),
          },
        ],
      }),
    );
    procs.start('prometheus', 'prometheus', [
      `--config.file=${path.join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
      '--log.level=warn',
    ]);
    await waitFor('prometheus ready', 30_000, async () => ((await httpGet(promUrl('/-/ready'))).status === 200 ? true : undefined));
    await waitFor('every exporter scraped and up', 30_000, async () => {
      const up = await query('up{job="redis-exporter"} == 1');
      const redisUp = await query('redis_up == 1');
      return up.length === NODES && redisUp.length === NODES ? true : undefined;
    });
  }, 150_000);

  afterAll(async () => {
    await procs.stopAll();
    scratch.cleanup();
  }, 60_000);

  it('loads every generated rule and evaluates it without error', async () => {
    const res = JSON.parse((await httpGet(promUrl('/api/v1/rules'))).body) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = res.data.groups.flatMap((g) => g.rules);
    const generated = monitoring.ruleGroups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(loaded.map((r) => r.name).sort()).toEqual(generated.sort());
    await sleep(3000);
    const after = JSON.parse((await httpGet(promUrl('/api/v1/rules'))).body) as typeof res;
    expect(after.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok')).toEqual([]);
  });

  it('raises no alert, pending or firing, on the healthy cluster', async () => {
    // Several evaluations past every (shortened) pending period.
    await sleep(6000);
    expect(await alerts()).toEqual([]);
  }, 30_000);

  it('exposes every catalogued redis_exporter metric the rules and dashboards read', async () => {
    const exposed = new Set<string>();
    for (let i = 0; i < NODES; i++) {
      const body = (await httpGet(`http://127.0.0.1:${exporterPort(i)}/metrics`)).body;
      for (const line of body.split('\n')) if (line && !line.startsWith('#')) exposed.add(line.replace(/[{ ].*$/, ''));
    }
    const missing = REDIS_EXPORTER.families.map((f) => f.name).filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
    const used = new Set([
      ...monitoring.ruleGroups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr))),
      ...dashboardQueries(monitoring.dashboards.get('redis-cluster')!).flatMap((q) => metricNames(q.expr)),
    ]);
    expect([...used].filter((m) => m !== 'up' && !exposed.has(m))).toEqual([]);
  });

  it('shows data in every panel of the Redis dashboard', async () => {
    const empty: string[] = [];
    for (const q of dashboardQueries(monitoring.dashboards.get('redis-cluster')!)) {
      const expr = expandGrafanaVariables(q.expr, { region: REGION, environment: ENVIRONMENT });
      if ((await query(expr)).length === 0) empty.push(`${q.panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 30_000);

  it('fires the exporter-down and cluster alerts when a shard and another master are stopped', async () => {
    // Shard A: its master and its replica (redis and exporter, as when the pods are gone).
    const nodes = redisCli(redisPort(0), password, ['CLUSTER', 'NODES'])
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([id, addr, flags, masterId]) => ({ id, port: Number(addr.split('@')[0].split(':')[1]), master: flags.includes('master'), masterId }));
    const index = (port: number) => port - REDIS_BASE_PORT;
    const masters = nodes.filter((n) => n.master).sort((a, b) => a.port - b.port);
    const [shardA, shardB, shardC] = masters;
    const replicaOf = (m: { id: string }) => nodes.find((n) => n.masterId === m.id)!;
    const replicaA = replicaOf(shardA);
    const replicaB = replicaOf(shardB);
    for (const n of [shardA, replicaA]) {
      await procs.stop(`exporter-${index(n.port)}`);
      await procs.stop(`redis-${index(n.port)}`);
    }
    // Shard B loses its master's Redis only: its exporter keeps reporting redis_up 0, and with a single
    // master left no replica can win a failover election.
    await procs.stop(`redis-${index(shardB.port)}`);

    const expected = ['RedisExporterDown', 'RedisDown', 'RedisClusterSlotsFailing', 'RedisClusterStateNotOk', 'RedisClusterMastersMissing', 'RedisReplicaLinkDown'];
    const podsIn = (list: Awaited<ReturnType<typeof alerts>>, name: string) => list.filter((a) => a.labels.alertname === name).map((a) => a.labels.pod).sort();
    const wanted = {
      RedisExporterDown: [`redis-${index(shardA.port)}`, `redis-${index(replicaA.port)}`].sort(),
      RedisDown: [`redis-${index(shardB.port)}`],
      RedisReplicaLinkDown: [`redis-${index(replicaB.port)}`],
    };
    // Each node's alert turns firing on its own evaluation; wait for the whole expected picture.
    const firing = await waitFor(`alerts ${expected.join(', ')} firing on the affected pods`, 90_000, async () => {
      const list = (await alerts()).filter((a) => a.state === 'firing');
      const complete =
        expected.every((name) => list.some((a) => a.labels.alertname === name)) &&
        Object.entries(wanted).every(([name, pods]) => JSON.stringify(podsIn(list, name)) === JSON.stringify(pods)) &&
        podsIn(list, 'RedisClusterStateNotOk').includes(`redis-${index(shardC.port)}`);
      return complete ? list : undefined;
    }, 1000);

    const pods = (name: string) => podsIn(firing, name);
    expect(pods('RedisExporterDown')).toEqual(wanted.RedisExporterDown);
    expect(pods('RedisDown')).toEqual(wanted.RedisDown);
    expect(pods('RedisReplicaLinkDown')).toEqual(wanted.RedisReplicaLinkDown);
    expect(pods('RedisClusterStateNotOk')).toContain(`redis-${index(shardC.port)}`);
    for (const a of firing) expect(a.labels.severity).toMatch(/^(critical|warning)$/);
    // Nothing about the parts that are fine.
    expect(firing.filter((a) => ['RedisMemoryHigh', 'RedisTooManyConnections', 'RedisEvictionSpike', 'ScrapeTargetsMissing'].includes(a.labels.alertname))).toEqual([]);
  }, 120_000);
});
