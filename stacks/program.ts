import * as pulumi from '@pulumi/pulumi';
import { fromPulumiConfig, PROJECT, StackConfig, validateStackConfig } from './config/load';
import { RegionOutputs, RegionStack } from './region-stack';

/** Validates the stack config as the engine passes it; throws before any resource is registered. */
export function loadConfigFromEngine(): StackConfig {
  // isConfigSecret is exported by the SDK's runtime but marked internal in its typings.
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
  if (typeof runtime.isConfigSecret !== 'function') throw new Error('@pulumi/pulumi no longer exports runtime.isConfigSecret; update stacks/program.ts');
  const isSecret = runtime.isConfigSecret;
  const raw = fromPulumiConfig(pulumi.getStack(), pulumi.runtime.allConfig(), (key) => isSecret(key));
  return validateStackConfig(raw);
}

/**
 * The whole stack: one RegionStack per region, rolled out in wave order. Every region of a wave
 * depends on all regions of the previous wave, so a failure in the canary stops the rollout.
 */
export function deployStack(config: StackConfig): Record<string, RegionOutputs> {
  const pulumiConfig = new pulumi.Config(PROJECT);
  const configSecrets: Record<string, pulumi.Output<string>> = {};
  for (const [id, source] of Object.entries(config.secrets)) {
    if (source.from !== 'config') continue;
    const { key, path } = source;
    configSecrets[id] = path?.length
      ? pulumiConfig.requireSecretObject<Record<string, unknown>>(key).apply((obj) => {
          const value = path.reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], obj);
          if (typeof value !== 'string') throw new Error(`${config.file}: ${PROJECT}:${key}.${path.join('.')}: secret value missing`);
          return value;
        })
      : pulumiConfig.requireSecret(key);
  }

  const outputs: Record<string, RegionOutputs> = {};
  let previousWave: RegionStack[] = [];
  const waves = [...new Set(config.regions.map((r) => r.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    const current = config.regions
      .filter((r) => r.wave === wave)
      .map((region) => new RegionStack({ config, region, configSecrets }, { dependsOn: previousWave }));
    for (const stack of current) outputs[stack.outputs.region] = stack.outputs;
    previousWave = current;
  }
  return outputs;
}
