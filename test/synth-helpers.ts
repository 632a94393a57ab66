import { App, Chart } from 'cdk8s';
import { KubeObject, SynthObject, synthesizeChart } from '../stacks/synth';

export function newChart(id = 'test-region'): Chart {
  return new Chart(new App(), id, { disableResourceNameHashes: true });
}

export function synth(chart: Chart): SynthObject[] {
  return synthesizeChart(chart);
}

/** The one object of `kind` named `name` (and in `namespace` when given). */
export function find(objects: readonly SynthObject[], kind: string, name: string, namespace?: string): KubeObject {
  const matches = objects.filter((o) => o.manifest.kind === kind && o.manifest.metadata.name === name && (namespace === undefined || o.manifest.metadata.namespace === namespace));
  if (matches.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${matches.length}: ${objects.map((o) => o.key).join(', ')}`);
  return matches[0].manifest;
}

export function ofKind(objects: readonly SynthObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.manifest.kind === kind).map((o) => o.manifest);
}

/** Every pod spec in the objects (workload templates, Job and CronJob templates). */
export function podSpecs(objects: readonly SynthObject[]): { owner: string; spec: any }[] {
  const out: { owner: string; spec: any }[] = [];
  for (const { key, manifest } of objects) {
    const spec = manifest.spec as any;
    if (!spec) continue;
    if (spec.template?.spec?.containers) out.push({ owner: key, spec: spec.template.spec });
    if (spec.jobTemplate?.spec?.template?.spec) out.push({ owner: key, spec: spec.jobTemplate.spec.template.spec });
  }
  return out;
}
