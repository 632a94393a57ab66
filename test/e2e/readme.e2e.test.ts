import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { readStackFile, validateStackConfig } from '../../stacks/config/load';
import { copyRepository, E2E_TIMEOUT_MS, E2EStack, expectedResourceCount, randomSecret, REPO_ROOT, requireEngine, runBash } from './support';

/**
 * README "Deploying with Pulumi": the documented commands, verbatim, in a scratch copy of the
 * repository with a scratch HOME: the built CLI, the Node.js language host and the Kubernetes
 * provider preview the staging stack without a cluster.
 */

jest.setTimeout(E2E_TIMEOUT_MS);

const README = path.join(REPO_ROOT, 'README.md');
const MARKER = '<!-- test/e2e/readme.e2e.test.ts runs this block';

/** The bash block right after the marker comment. */
function documentedCommands(): string {
  const text = fs.readFileSync(README, 'utf8');
  const at = text.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md: marker "${MARKER}" not found`);
  const block = /```bash\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block) throw new Error('README.md: no ```bash block after the marker');
  return block[1];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fingerprint-e2e-readme-'));
const project = path.join(tmp, 'project');
const home = path.join(tmp, 'home');

afterAll(() => {
  if (process.env.E2E_KEEP) console.log(`e2e readme: kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * An operator's shell in the scratch HOME: a passphrase, no kubeconfig, no Pulumi settings from the
 * test run. PULUMI_HOME is set because the CLI finds its default (~/.pulumi) through the user
 * database, not $HOME, and must not touch the real user's.
 */
function operatorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('PULUMI_')) delete env[key];
  return { ...env, HOME: home, PULUMI_HOME: path.join(home, '.pulumi'), PULUMI_CONFIG_PASSPHRASE: randomSecret(), KUBECONFIG: path.join(home, '.kube', 'config') };
}

describe('README: pulumi preview -s staging with the built CLI', () => {
  it('documents sourcing the tools, login, stack selection, the secrets and the preview', () => {
    const commands = documentedCommands();
    for (const line of ['source scripts/pulumi-tools/env.sh', 'pulumi login "file://$HOME/.pulumi-state"', 'pulumi stack select --create staging', 'pulumi config set --secret', 'pulumi preview -s staging']) {
      expect(commands).toContain(line);
    }
  });

  it('the documented commands preview the whole stack and one region, writing the stack secrets encrypted', async () => {
    requireEngine();
    const repoStackFile = fs.readFileSync(path.join(REPO_ROOT, 'Pulumi.staging.yaml'), 'utf8');
    copyRepository(project);
    fs.mkdirSync(home);
    const env = operatorEnv();

    const run = runBash(documentedCommands(), project, env);
    if (run.status !== 0) throw new Error(`README commands failed (exit ${run.status}):\n${run.output.split('\n').slice(-60).join('\n')}`);

    // Whole stack, then one region through --target: the stack, the region's component, provider
    // and objects, and the other regions' providers (the engine includes every provider).
    const config = validateStackConfig(readStackFile('staging', project));
    const creates = [...run.output.matchAll(/\+ (\d+) to create/g)].map((m) => Number(m[1]));
    const canary = config.regions.find((r) => r.name === 'us-east-1')!;
    expect(creates).toEqual([expectedResourceCount(config), expectedResourceCount({ ...config, regions: [canary] }) + config.regions.length - 1]);
    expect(run.output).not.toMatch(/pulumi-resource-random/);

    // The stack file got its salt and the two passwords, encrypted; the state is in ~/.pulumi-state.
    const stackFile = fs.readFileSync(path.join(project, 'Pulumi.staging.yaml'), 'utf8');
    const doc = parse(stackFile) as { encryptionsalt?: string; config: Record<string, unknown> };
    expect(doc.encryptionsalt).toMatch(/^v1:/);
    for (const id of ['redisPassword', 'kongRateLimitRedisPassword']) expect(doc.config[`fingerprint-infra:${id}`]).toEqual({ secure: expect.stringMatching(/^v1:/) });
    expect(fs.existsSync(path.join(home, '.pulumi-state', '.pulumi', 'stacks', 'fingerprint-infra', 'staging.json'))).toBe(true);

    // Setting the secrets is idempotent: a second run keeps the values.
    const secretLines = documentedCommands().split('\n');
    const loop = secretLines.slice(secretLines.findIndex((l) => l.startsWith('for id in')), secretLines.findIndex((l) => l.startsWith('done')) + 1);
    const again = runBash(['source scripts/pulumi-tools/env.sh', ...loop].join('\n'), project, env);
    expect(again.status).toBe(0);
    expect(fs.readFileSync(path.join(project, 'Pulumi.staging.yaml'), 'utf8')).toBe(stackFile);

    expect(fs.readFileSync(path.join(REPO_ROOT, 'Pulumi.staging.yaml'), 'utf8')).toBe(repoStackFile);

    // The e2e suites still work on a stack file committed this way (values encrypted for another
    // passphrase): their copy gets its own salt and fresh secrets.
    const e2e = await E2EStack.create('staging', project);
    try {
      const copied = parse(fs.readFileSync(path.join(e2e.workDir, 'Pulumi.staging.yaml'), 'utf8')) as { encryptionsalt?: string };
      expect(copied.encryptionsalt).not.toBe(doc.encryptionsalt);
      for (const id of ['redisPassword', 'kongRateLimitRedisPassword']) {
        const value = await e2e.stack.getConfig(`fingerprint-infra:${id}`);
        expect(value.secret).toBe(true);
        expect(e2e.secretValues).toContain(value.value);
      }
    } finally {
      e2e.cleanup();
    }
  });
});
