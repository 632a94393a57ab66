import { Command } from 'commander';
import * as path from 'path';
import { ConfigError, readStackFile, validateStackConfig } from './config/load';
import { selectRegions, synthesizeRegion, writeRegions } from './render-core';

/** Offline render: the same construct code as the Pulumi program, no cluster and no Pulumi CLI. */
export function main(argv: string[]): number {
  const program = new Command()
    .name('npm run render --')
    .description('Render the Kubernetes manifests of a stack (one folder per region) without a cluster or the Pulumi CLI.')
    .requiredOption('-s, --stack <name>', 'stack (environment) to render: staging or prod')
    .option('-r, --region <name...>', 'render only these regions')
    .option('-o, --out <dir>', 'output directory', 'dist')
    .option('--project-dir <dir>', 'directory holding Pulumi.<stack>.yaml', path.resolve(__dirname, '..'))
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  const opts = program.opts<{ stack: string; region?: string[]; out: string; projectDir: string }>();
  try {
    const config = validateStackConfig(readStackFile(opts.stack, opts.projectDir));
    const regions = selectRegions(config, opts.region ?? []).map((region) => synthesizeRegion(config, region));
    const written = writeRegions(opts.out, config.stack, regions);
    for (const [i, dir] of written.entries()) {
      console.log(`rendered ${regions[i].objects.length} objects for ${config.stack}/${regions[i].region.name} -> ${path.relative(process.cwd(), dir)}`);
    }
    return 0;
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `render failed: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
