import { spawnSync } from 'child_process';
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { checkObjects, formatReport, problemCount, RegionCheck } from '../policy/check';
import { OPENAPI_BASE_ENV, openapiDir } from '../policy/schema/kubernetes';
import { ManifestValidator } from '../policy/schema/validator';
import { ConfigError, readStackFile, StackConfig, validateStackConfig } from './config/load';
import { selectRegions, synthesizeRegion } from './render-core';

const PROJECT_DIR = path.resolve(__dirname, '..');
const FETCH_SCRIPT = path.join(PROJECT_DIR, 'scripts', 'k8s-openapi', 'fetch.sh');

export interface CheckOptions {
  readonly stack: string;
  /** Only these regions. @default all */
  readonly regions?: readonly string[];
  /** @default the stack's deploy.kubernetesVersion */
  readonly kubernetesVersion?: string;
  /** @default $FINGERPRINT_CRDS_DIR or ../shared/crds */
  readonly crdDirs?: readonly string[];
  /** Folder with the version's OpenAPI documents. @default .tools/k8s-openapi/<version> */
  readonly openapiDir?: string;
  /** Fetch the version's documents (scripts/k8s-openapi/fetch.sh) when the default folder lacks them. @default false */
  readonly fetchMissing?: boolean;
}

export interface StackCheck {
  readonly config: StackConfig;
  readonly validator: ManifestValidator;
  readonly regions: readonly RegionCheck[];
}

/** Stacks with a Pulumi.<stack>.yaml in the project. */
export function stackNames(projectDir = PROJECT_DIR): string[] {
  return fs
    .readdirSync(projectDir)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

function fetchDocuments(minor: string): void {
  if (fs.existsSync(path.join(openapiDir(minor), 'VERSION'))) return;
  console.error(`Kubernetes ${minor} OpenAPI documents are missing; fetching them: bash scripts/k8s-openapi/fetch.sh ${minor}`);
  spawnSync('bash', [FETCH_SCRIPT, minor], { stdio: ['ignore', process.stderr, process.stderr] });
}

/** Renders every selected region of a stack (the same code path as render and deploy) and checks it. */
export function checkStack(options: CheckOptions): StackCheck {
  const config = validateStackConfig(readStackFile(options.stack));
  const kubernetesVersion = options.kubernetesVersion ?? config.deploy.kubernetesVersion;
  if (options.fetchMissing && !options.openapiDir && !process.env[OPENAPI_BASE_ENV]) fetchDocuments(kubernetesVersion);
  const validator = ManifestValidator.create({ kubernetesVersion, openapiDir: options.openapiDir, crdDirs: options.crdDirs });
  const regions = selectRegions(config, options.regions ?? []).map((region) =>
    checkObjects(
      region.name,
      synthesizeRegion(config, region).objects.map((o) => o.manifest),
      validator,
    ),
  );
  return { config, validator, regions };
}

export function reportHeader(check: StackCheck): string {
  const { core, crdSources } = check.validator;
  const crds = crdSources.map((d) => path.relative(process.cwd(), d) || '.').join(', ');
  return `check ${check.config.file}: Kubernetes ${core.minor} (OpenAPI of ${core.release}), ${check.validator.crdCount} CRD versions from ${crds || 'nowhere'}`;
}

export function main(argv: string[]): number {
  const program = new Command()
    .name('npm run check --')
    .description(
      'Render every region of a stack and validate each object: strict schema validation against the Kubernetes OpenAPI of the target version and the CRDs, then the policy rules (Pod Security "restricted", reliability, secrets). Exits 1 on any problem.',
    )
    .option('-s, --stack <name...>', 'stacks (environments) to check (default: every Pulumi.<stack>.yaml)')
    .option('-r, --region <name...>', 'check only these regions')
    .option('-k, --kubernetes-version <minor>', "Kubernetes version the schemas come from, e.g. 1.31 (default: the stack's deploy.kubernetesVersion)")
    .option('--crds <dir...>', 'folders with CustomResourceDefinition YAML (default: $FINGERPRINT_CRDS_DIR or ../shared/crds)')
    .option('--openapi <dir>', 'folder with the OpenAPI v3 documents of that version (default: .tools/k8s-openapi/<version>, fetched when missing)')
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    // Usage errors exit 2, so they are not mistaken for problems found (1); --help exits 0.
    return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const opts = program.opts<{ stack?: string[]; region?: string[]; kubernetesVersion?: string; crds?: string[]; openapi?: string }>();
  if (opts.kubernetesVersion !== undefined && !/^1\.[0-9]+$/.test(opts.kubernetesVersion)) {
    console.error(`--kubernetes-version must be a minor version such as 1.30 (got "${opts.kubernetesVersion}")`);
    return 2;
  }
  if (opts.region && !opts.stack) {
    console.error('--region needs --stack (regions differ between stacks)');
    return 2;
  }
  let failed = false;
  for (const [i, stack] of (opts.stack ?? stackNames()).entries()) {
    try {
      const check = checkStack({
        stack,
        regions: opts.region,
        kubernetesVersion: opts.kubernetesVersion,
        crdDirs: opts.crds?.map((d) => path.resolve(d)),
        openapiDir: opts.openapi && path.resolve(opts.openapi),
        fetchMissing: true,
      });
      console.log(`${i ? '\n' : ''}${formatReport(reportHeader(check), check.regions)}`);
      failed ||= problemCount(check.regions) > 0;
    } catch (e) {
      console.error(e instanceof ConfigError ? e.message : `check of stack ${stack} failed: ${(e as Error).message}`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
