import { spawnSync } from 'child_process';
import { Command } from 'commander';
import { ConfigError, PROJECT, readStackFile, RegionConfig, StackConfig, validateStackConfig } from './config/load';
import { selectRegions } from './render-core';

/**
 * `npm run preview|up -- --stack <stack> (--region <name>... | --wave <n>) [pulumi args]`:
 * `pulumi preview` / `pulumi up` limited to some regions of a stack with `--target` URN globs.
 * Arguments it does not know (--diff, --yes, --expect-no-changes, --refresh, -m ...) go to pulumi.
 */

/**
 * Type of the per-region component; equal to REGION_STACK_TYPE in region-stack.ts, repeated here so
 * this CLI does not load the Pulumi SDK (a test checks that the two agree).
 */
export const REGION_STACK_TYPE_NAME = 'fingerprint:infra:RegionStack';

export const PULUMI_COMMANDS = ['preview', 'up'] as const;
export type PulumiCommand = (typeof PULUMI_COMMANDS)[number];

/**
 * The stack's short name as it appears in URNs and in Pulumi.<stack>.yaml: Pulumi Cloud stacks may
 * be given fully qualified (org/project/stack).
 */
export function stackShortName(stack: string): string {
  return stack.split('/').pop() ?? stack;
}

/**
 * URN globs selecting one region: its RegionStack component (named `<region>`), the component's
 * children named `<region>/...` (every Kubernetes object and the region's generated passwords),
 * and the region's Kubernetes provider (a top-level resource named `<region>`). In Pulumi globs
 * `**` matches anything and `*` anything but `:`; resource names never contain `::`, so one
 * region's globs cannot match another's.
 */
export function regionTargets(stack: string, region: string, project = PROJECT): string[] {
  const base = `urn:pulumi:${stackShortName(stack)}::${project}`;
  return [`${base}::${REGION_STACK_TYPE_NAME}::${region}`, `${base}::${REGION_STACK_TYPE_NAME}$**::${region}/**`, `${base}::pulumi:providers:kubernetes::${region}`];
}

export interface PulumiInvocation {
  readonly command: PulumiCommand;
  /** As given (may be fully qualified for Pulumi Cloud). */
  readonly stack: string;
  /** Regions to target; empty means the whole stack. */
  readonly regions: readonly string[];
  /** Passed through after the generated arguments. */
  readonly extra?: readonly string[];
  readonly project?: string;
}

/** The argument list of `pulumi` for an invocation (without the `pulumi` itself). */
export function pulumiArgs(inv: PulumiInvocation): string[] {
  const targets = inv.regions.flatMap((r) => regionTargets(inv.stack, r, inv.project));
  return [inv.command, '--stack', inv.stack, ...targets.flatMap((t) => ['--target', t]), ...(inv.extra ?? [])];
}

/** Regions of one rollout wave, in config order; an unknown wave is an error naming the known ones. */
export function waveRegions(config: StackConfig, wave: number): RegionConfig[] {
  const regions = config.regions.filter((r) => r.wave === wave);
  if (!regions.length) {
    const waves = [...new Set(config.regions.map((r) => r.wave))].join(', ');
    throw new Error(`${config.file}: no region in wave ${wave} (stack ${config.stack} has waves ${waves})`);
  }
  return regions;
}

export type Runner = (command: string, args: readonly string[]) => number;

/** Runs a command with inherited stdio; a missing binary is reported clearly, not as a stack trace. */
export const spawnRunner: Runner = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      console.error(`${command}: not found on PATH (build it with scripts/pulumi-tools/build.sh and add .tools/bin to PATH, or install the Pulumi CLI)`);
      return 127;
    }
    console.error(`${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
};

interface Options {
  stack: string;
  region?: string[];
  wave?: string;
}

/** Resolves the regions an invocation names, validating the stack config first. */
export function resolveRegions(stack: string, opts: { region?: readonly string[]; wave?: string }, projectDir?: string): RegionConfig[] {
  const config = validateStackConfig(readStackFile(stackShortName(stack), projectDir));
  if (opts.region?.length && opts.wave !== undefined) throw new Error('give either --region or --wave, not both');
  if (opts.wave !== undefined) {
    if (!/^[1-9][0-9]*$/.test(opts.wave)) throw new Error(`--wave must be a wave number (got "${opts.wave}")`);
    return waveRegions(config, Number(opts.wave));
  }
  if (!opts.region?.length) {
    throw new Error(`name the regions with --region (stack ${config.stack} has: ${config.regions.map((r) => r.name).join(', ')}) or a wave with --wave`);
  }
  return selectRegions(config, opts.region);
}

export function main(argv: string[], run: Runner = spawnRunner, projectDir?: string): number {
  let result: { command: PulumiCommand; opts: Options; extra: string[] } | undefined;
  const program = new Command().name('pulumi-region').exitOverride();
  for (const command of PULUMI_COMMANDS) {
    program
      .command(command)
      .description(`pulumi ${command} limited to some regions of a stack; unknown arguments go to pulumi`)
      .requiredOption('-s, --stack <name>', 'stack: staging or prod (or org/project/stack)')
      .option('-r, --region <name...>', 'regions to target')
      .option('-w, --wave <n>', 'target every region of this rollout wave')
      .allowUnknownOption()
      .allowExcessArguments()
      .exitOverride()
      .action(function (this: Command, opts: Options) {
        result = { command, opts, extra: [...this.args] };
      });
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  if (!result) return 2;
  try {
    const regions = resolveRegions(result.opts.stack, result.opts, projectDir);
    const args = pulumiArgs({ command: result.command, stack: result.opts.stack, regions: regions.map((r) => r.name), extra: result.extra });
    console.error(`pulumi ${result.command} --stack ${result.opts.stack}: regions ${regions.map((r) => `${r.name} (wave ${r.wave})`).join(', ')}`);
    return run('pulumi', args);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : (e as Error).message);
    return 1;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
