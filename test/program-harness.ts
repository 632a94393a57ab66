import * as pulumi from '@pulumi/pulumi';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { PROJECT, StackConfig } from '../stacks/config/load';

/** Every mocked RandomPassword result starts with this; such values may only reach Secret resources. */
export const MOCK_PASSWORD = 'mockGeneratedPassword';

/** The value the mocked RandomPassword named `resourceName` returns. */
export function mockPassword(resourceName: string): string {
  return `${MOCK_PASSWORD}-${resourceName}`;
}

export interface Registered {
  type: string;
  name: string;
  inputs: any;
  provider?: string;
}

export interface Transformed {
  type: string;
  name: string;
  props: Record<string, unknown>;
  opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
}

/** Registrations of the latest run, also when the program threw. */
export const lastRun: { registered: Registered[] } = { registered: [] };

/** A stack file's project config in the form the engine passes it (objects as JSON strings). */
export function engineConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  const doc = parse(fs.readFileSync(path.resolve(__dirname, '..', `Pulumi.${stack}.yaml`), 'utf8'));
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...doc.config, ...overrides })) {
    config[key.includes(':') ? key : `${PROJECT}:${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return config;
}

/**
 * Runs the whole Pulumi program under the SDK's mocks and collects every registration, with the
 * options each resource was created with (dependsOn, protect, ...).
 */
export async function runProgram(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
  options: { stackResource?: boolean } = {},
): Promise<{ registered: Registered[]; transformed: Transformed[]; outputs: Record<string, unknown>; stackConfig: StackConfig }> {
  const registered: Registered[] = [];
  lastRun.registered = registered;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state = args.type === 'random:index/randomPassword:RandomPassword' ? { ...args.inputs, result: mockPassword(args.name) } : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    PROJECT,
    stack,
    true,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
  const transformed: Transformed[] = [];
  let stackConfig: StackConfig | undefined;
  let outputs: Record<string, unknown> = {};
  let failure: unknown;
  const deploy = () => {
    try {
      // Loaded after the mocks are set so the program sees them.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const program = require('../stacks/program') as typeof import('../stacks/program');
      stackConfig = program.loadConfigFromEngine();
      outputs = program.deployStack(stackConfig);
    } catch (e) {
      failure = e;
    }
    return outputs;
  };
  if (options.stackResource === false) {
    // Without a root Stack resource the program can run several times in one test file (the
    // Stack's outputs of one run would otherwise reach the next run's mocks), but stack
    // transformations do not apply, so `transformed` stays empty.
    deploy();
  } else {
    // Run inside a root Stack resource, as the language host does, so stack transformations apply.
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        transformed.push({ type: args.type, name: args.name, props: args.props, opts: args.opts as Transformed['opts'] });
        return undefined;
      });
      return deploy();
    });
  }
  if (failure) throw failure;

  // Registrations complete asynchronously; wait until no new resource arrives.
  let last = -1;
  for (let i = 0; i < 400 && registered.length !== last; i++) {
    last = registered.length;
    await new Promise((r) => setTimeout(r, 25));
  }
  const custom = registered.filter((r) => r.type !== 'pulumi:pulumi:Stack');
  registered.length = 0;
  registered.push(...custom);
  return { registered, transformed, outputs, stackConfig: stackConfig! };
}
