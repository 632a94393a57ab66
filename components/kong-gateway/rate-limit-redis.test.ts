import { randomBytes } from 'crypto';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { placeholderSecretId } from '../../lib/secrets';
import { Peer } from '../../lib/workload';
import { find, newChart, synth } from '../../test/synth-helpers';
import { RateLimitRedis, renderCounterRedisConf } from './rate-limit-redis';

const prometheus: Peer = { namespace: 'monitoring', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, serviceAccountName: 'prometheus', description: 'Prometheus' };

describe('RateLimitRedis', () => {
  const chart = newChart();
  const store = new RateLimitRedis(chart, 'counters', { metricsScraper: prometheus, memory: '512Mi' });
  const objects = synth(chart);
  const deployment = find(objects, 'Deployment', 'kong-rate-limit-redis', 'kong') as any;
  const pod = deployment.spec.template.spec;
  const redis = pod.containers.find((c: any) => c.name === 'redis');
  const exporter = pod.containers.find((c: any) => c.name === 'exporter');

  it('is a single primary that never runs twice, even during a rollout', () => {
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('takes its password from a deploy-time Secret and keeps it off command lines', () => {
    const secret = find(objects, 'Secret', 'kong-rate-limit-redis-auth', 'kong') as any;
    expect(placeholderSecretId(secret.stringData.password)).toBe('kongRateLimitRedisPassword');
    for (const c of pod.containers) {
      for (const e of c.env) if (/PASSWORD|AUTH/.test(e.name)) expect(e.valueFrom.secretKeyRef.name).toBe('kong-rate-limit-redis-auth');
    }
    expect(redis.command.join(' ')).not.toMatch(/requirepass \S*[A-Za-z0-9]{8}/);
    expect(JSON.stringify(redis.livenessProbe)).not.toMatch(/-a |--pass/);
  });

  it('has probes, limits, a restricted context, a PDB and a scrapeable exporter', () => {
    for (const c of [redis, exporter]) {
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    }
    expect(redis.resources.limits.memory).toBe('512Mi');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(find(objects, 'PodDisruptionBudget', 'kong-rate-limit-redis', 'kong')).toBeDefined();
    expect(store.scrapeEndpoints).toEqual([{ job: 'kong-rate-limit-redis', workload: store.workload, port: { name: 'http-metrics', port: 9121 }, path: '/metrics', interval: '30s' }]);
    expect(store.maxmemory).toBe('384Mi');
  });

  it('admits only declared clients', () => {
    const client: Peer = { namespace: 'kong', podLabels: { app: 'client' }, serviceAccountName: 'client', description: 'client' };
    const c2 = newChart();
    const s2 = new RateLimitRedis(c2, 'counters');
    const before = (find(synth(c2), 'NetworkPolicy', 'kong-rate-limit-redis', 'kong') as any).spec.ingress;
    expect(before).toEqual([]);
    s2.allowFrom(client);
    const after = (find(synth(c2), 'NetworkPolicy', 'kong-rate-limit-redis', 'kong') as any).spec.ingress;
    expect(after).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kong' } }, podSelector: { matchLabels: { app: 'client' } } }],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ]);
  });

  it('refuses a memory size Redis cannot run in', () => {
    expect(() => new RateLimitRedis(newChart(), 'c', { memory: '32Mi' })).toThrow(/below the 64Mi/);
    expect(() => new RateLimitRedis(newChart(), 'c', { memory: 'lots' })).toThrow(/not a memory quantity/);
  });
});

const haveRedis = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe('counter redis.conf on a real redis-server', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  const password = randomBytes(18).toString('hex');
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(port), '--no-auth-warning', ...args], { env: { ...process.env, REDISCLI_AUTH: password }, timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();

  beforeAll(async () => {
    if (!haveRedis) throw new Error('redis-server is not installed (run scripts/setup.sh)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'counter-redis-'));
    port = 20000 + Math.floor(Math.random() * 20000);
    const conf = renderCounterRedisConf(port, 64 * 2 ** 20).replace('/run/redis-auth/auth.conf', path.join(dir, 'auth.conf')).replace('bind 0.0.0.0', 'bind 127.0.0.1');
    fs.writeFileSync(path.join(dir, 'auth.conf'), `requirepass "${password}"\n`);
    fs.writeFileSync(path.join(dir, 'redis.conf'), conf);
    server = spawn('redis-server', [path.join(dir, 'redis.conf')], { cwd: dir, stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        if (cli('ping') === 'PONG') return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis-server did not start');
  });

  afterAll(() => {
    server?.kill('SIGKILL');
  });

  it('requires the password', () => {
    const out = execFileSync('redis-cli', ['-p', String(port), 'ping'], { timeout: 5000 }).toString();
    expect(out).toMatch(/NOAUTH/);
  });

  it('applies the memory limit, TTL-first eviction and no persistence', () => {
    expect(cli('config', 'get', 'maxmemory')).toContain(String(64 * 2 ** 20));
    expect(cli('config', 'get', 'maxmemory-policy')).toContain('volatile-ttl');
    expect(cli('config', 'get', 'appendonly')).toContain('no');
    expect(cli('config', 'get', 'save').split('\n')[1] ?? '').toBe('');
  });

  it('serves the counter operations Kong uses and disables destructive commands', () => {
    expect(cli('incrby', 'ratelimit:test', '5')).toBe('5');
    expect(cli('expire', 'ratelimit:test', '60')).toBe('1');
    expect(cli('flushall')).toMatch(/unknown command/i);
    expect(cli('debug', 'sleep', '0')).toMatch(/unknown command/i);
  });
});
