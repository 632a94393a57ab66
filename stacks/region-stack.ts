import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as path from 'path';
import { RegionConfig, StackConfig } from './config/load';
import { secretPlaceholder } from '../lib/secrets';
import { registerObjects } from './deploy/register';
import { buildRegionChart } from './region-chart';
import { synthesizeChart } from './synth';

export interface RegionStackArgs {
  readonly config: StackConfig;
  readonly region: RegionConfig;
  /** Secrets taken from the stack config (decrypted by the engine), by secret id. */
  readonly configSecrets: Readonly<Record<string, pulumi.Input<string>>>;
}

/** What a region exposes; names of secrets, never their values. */
export interface RegionOutputs {
  readonly region: string;
  readonly wave: number;
  readonly redisEndpoint: string;
  readonly redisNodes: string[];
  readonly redisPasswordSecret: string;
  readonly cachePolicyConfigMap: string;
  readonly objectCount: number;
}

export const REGION_STACK_TYPE = 'fingerprint:infra:RegionStack';

/**
 * One region: its own Kubernetes provider and every object of the region's chart, named with the
 * region so `pulumi preview/up --target` can address a region alone.
 */
export class RegionStack extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  public readonly outputs: RegionOutputs;

  constructor(args: RegionStackArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const { config, region } = args;
    super(REGION_STACK_TYPE, region.name, {}, opts);

    const renderDir = config.deploy.renderYamlToDirectory;
    // The provider is not a child of the region: a targeted update (one wave) always includes
    // every provider, and one whose parent is a not-yet-created region of a later wave fails it.
    // Render mode writes manifests instead of talking to a cluster (and refuses a kube context).
    this.provider = new k8s.Provider(
      region.name,
      renderDir ? { renderYamlToDirectory: path.join(renderDir, region.name) } : { context: region.kubeContext },
    );

    const secretValues: Record<string, pulumi.Input<string>> = {};
    for (const [id, source] of Object.entries(config.secrets)) {
      if (renderDir) {
        // Rendered files must never hold secret values: render mode keeps the placeholders, as
        // the offline render does.
        secretValues[id] = secretPlaceholder(id);
      } else if (source.from === 'config') {
        secretValues[id] = args.configSecrets[id];
      } else {
        // One password per region: a leaked region credential does not open the others.
        secretValues[id] = new random.RandomPassword(`${region.name}/${id}`, { length: source.length, special: false }, { parent: this }).result;
      }
    }

    const built = buildRegionChart(config, region);
    const objects = synthesizeChart(built.chart);
    registerObjects(objects, {
      region: region.name,
      provider: this.provider,
      parent: this,
      secretValues,
      protectStatefulSets: config.deploy.protectStatefulSets,
    });

    this.outputs = {
      region: region.name,
      wave: region.wave,
      redisEndpoint: `${built.redis.host}:${built.redis.port}`,
      redisNodes: built.redis.nodeHostnames,
      redisPasswordSecret: `${built.redis.namespace}/${built.redis.passwordSecret.name}`,
      cachePolicyConfigMap: `${built.redis.namespace}/${built.cacheManagement.cachePolicyConfigMapName}`,
      objectCount: objects.length,
    };
    this.registerOutputs({ ...this.outputs });
  }
}
