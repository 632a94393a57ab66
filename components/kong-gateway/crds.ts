import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import * as fs from 'fs';
import { loadAll, YAMLException } from 'js-yaml';

/** API group of every Kong custom resource this component emits. */
export const KONG_GROUP = 'configuration.konghq.com';
/** Kinds (and versions) the gateway emits; the installed or assumed CRDs must serve them. */
export const REQUIRED_KINDS: Readonly<Record<string, string>> = {
  KongPlugin: 'v1',
  KongClusterPlugin: 'v1',
  KongConsumer: 'v1',
};
const VERSION_ANNOTATION = 'kubernetes-configuration.konghq.com/version';

/** The parts of a CustomResourceDefinition the component and its tests read. */
export interface CrdDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; [k: string]: unknown };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; [k: string]: unknown };
    versions: { name: string; served: boolean; storage: boolean; schema?: { openAPIV3Schema?: Record<string, unknown> }; [k: string]: unknown }[];
    [k: string]: unknown;
  };
}

/**
 * Parses Kong's published CRD manifest (a multi-document YAML of CustomResourceDefinitions).
 * `source` names the file in errors.
 */
export function parseKongCrdManifest(text: string, source: string): CrdDocument[] {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    throw new Error(`${source}: not valid YAML${e.mark ? ` at line ${e.mark.line + 1}` : ''}: ${e.reason}`);
  }
  const crds: CrdDocument[] = [];
  docs.forEach((doc, i) => {
    const value = doc as CrdDocument | null | undefined;
    if (value === null || value === undefined) return;
    if (value.apiVersion !== 'apiextensions.k8s.io/v1' || value.kind !== 'CustomResourceDefinition') {
      throw new Error(`${source}: document ${i + 1} is a ${value.apiVersion}/${value.kind}, not an apiextensions.k8s.io/v1 CustomResourceDefinition`);
    }
    if (!value.spec?.group?.endsWith('konghq.com')) {
      throw new Error(`${source}: CRD ${value.metadata?.name} is in group "${value.spec?.group}", not a Kong (konghq.com) group`);
    }
    crds.push(value);
  });
  if (crds.length === 0) throw new Error(`${source}: contains no CustomResourceDefinition`);
  for (const [kind, version] of Object.entries(REQUIRED_KINDS)) {
    const crd = crds.find((c) => c.spec.group === KONG_GROUP && c.spec.names.kind === kind);
    if (!crd) throw new Error(`${source}: has no CRD for ${KONG_GROUP}/${kind}, which the gateway emits`);
    if (!crd.spec.versions.some((v) => v.name === version && v.served)) {
      throw new Error(`${source}: CRD ${crd.metadata.name} does not serve ${version}, which the gateway emits`);
    }
  }
  return crds;
}

export interface KongCrdsProps {
  /** Path of Kong's CRD manifest for the pinned controller version. */
  readonly manifestPath: string;
}

/**
 * Installs Kong's CustomResourceDefinitions from the published manifest of the pinned controller
 * version. Synthesis orders every Kong custom resource of the chart after them.
 */
export class KongCrds extends Construct {
  public readonly definitions: readonly CrdDocument[];
  /** `kubernetes-configuration.konghq.com/version` of the manifest, when it carries one. */
  public readonly configurationVersion?: string;

  constructor(scope: Construct, id: string, props: KongCrdsProps) {
    super(scope, id);
    if (!fs.existsSync(props.manifestPath)) throw new Error(`KongCrds ${id}: manifest ${props.manifestPath} does not exist`);
    this.definitions = parseKongCrdManifest(fs.readFileSync(props.manifestPath, 'utf8'), props.manifestPath);
    this.configurationVersion = this.definitions.find((d) => d.metadata.annotations?.[VERSION_ANNOTATION])?.metadata.annotations?.[VERSION_ANNOTATION];
    for (const crd of this.definitions) {
      const { apiVersion, kind, metadata, ...rest } = crd;
      new ApiObject(this, crd.metadata.name, {
        apiVersion,
        kind,
        metadata: { name: metadata.name, ...(metadata.annotations ? { annotations: metadata.annotations } : {}) },
        ...rest,
      });
    }
  }

  public get kinds(): string[] {
    return this.definitions.map((d) => `${d.spec.group}/${d.spec.names.kind}`);
  }
}
