import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { Labels } from './labels';

/**
 * Secret values never enter the synthesized manifests. A Secret's entries carry a placeholder
 * naming the Pulumi secret that provides the value; the deploy layer substitutes the (secret)
 * Output and the offline render keeps the placeholder, which doubles as the redaction.
 */
const PLACEHOLDER = /^<secret:([A-Za-z][A-Za-z0-9]*)>$/;
const PLACEHOLDER_IN_TEXT = /<secret:[A-Za-z][A-Za-z0-9]*>/;

export function secretPlaceholder(secretId: string): string {
  return `<secret:${secretId}>`;
}

/** The secret id behind a placeholder, or undefined when `value` is not one. */
export function placeholderSecretId(value: unknown): string | undefined {
  return typeof value === 'string' ? PLACEHOLDER.exec(value)?.[1] : undefined;
}

/** Whether `text` contains a placeholder anywhere, e.g. inside a config file, where it would never be substituted. */
export function containsPlaceholder(text: string): boolean {
  return PLACEHOLDER_IN_TEXT.test(text);
}

export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface DeployTimeSecretProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Labels;
  /** Secret data key -> id of the Pulumi secret providing its value (see stacks/secrets.ts). */
  readonly entries: Record<string, string>;
}

/** A Kubernetes Secret whose values come from Pulumi secrets at deploy time. */
export class DeployTimeSecret extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  public readonly secretIds: readonly string[];
  /** Secret data key -> id of the Pulumi secret providing its value. */
  public readonly entries: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: DeployTimeSecretProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    this.secretIds = Object.values(props.entries);
    this.entries = { ...props.entries };
    const stringData = Object.fromEntries(
      Object.entries(props.entries).map(([key, secretId]) => [key, secretPlaceholder(secretId)]),
    );
    new ApiObject(this, 'resource', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      type: 'Opaque',
      stringData,
    });
  }

  public keyRef(key: string): SecretKeyRef {
    return { name: this.name, key };
  }
}
