import type { KubeObject } from '../stacks/synth';
import { describeRef, evaluate, Exemption, Finding, ObjectRef, refOf } from './engine';
import { ManifestValidator, SchemaProblem } from './schema/validator';

export interface ObjectSchemaProblem extends SchemaProblem {
  readonly object: ObjectRef;
}

/** Schema and policy results of one region's objects. */
export interface RegionCheck {
  readonly region: string;
  readonly objectCount: number;
  readonly schemaProblems: readonly ObjectSchemaProblem[];
  readonly violations: readonly Finding[];
  readonly exemptions: readonly Exemption[];
}

/** Validates one region's manifests against the schemas and runs every policy rule on them. */
export function checkObjects(region: string, objects: readonly KubeObject[], validator: ManifestValidator): RegionCheck {
  const schemaProblems = validator.validateAll(objects).flatMap((problems, i) => problems.map((p) => ({ ...p, object: refOf(objects[i]) })));
  const { violations, exemptions } = evaluate(objects);
  return { region, objectCount: objects.length, schemaProblems, violations, exemptions };
}

export function problemCount(regions: readonly RegionCheck[]): number {
  return regions.reduce((n, r) => n + r.schemaProblems.length + r.violations.length, 0);
}

function at(region: string, object: ObjectRef, path: string): string {
  return `${region}  ${object.apiVersion} ${describeRef(object)}  ${path || '(object)'}`;
}

/** The human-readable report: per-region totals, then every problem, then every exemption. */
export function formatReport(header: string, regions: readonly RegionCheck[]): string {
  const lines = [header];
  for (const r of regions) {
    lines.push(`  ${r.region}: ${r.objectCount} objects, ${r.schemaProblems.length} schema problems, ${r.violations.length} policy violations, ${r.exemptions.length} exemptions`);
  }
  const schema = regions.flatMap((r) => r.schemaProblems.map((p) => `  ${at(r.region, p.object, p.path)}: ${p.message}`));
  const policy = regions.flatMap((r) => r.violations.map((v) => `  ${at(r.region, v.object, v.path)}: ${v.message} [${v.ruleId}]`));
  const exemptions = regions.flatMap((r) =>
    r.exemptions.map(
      (e) => `  ${r.region}  ${describeRef(e.object)}  [${e.ruleId}] ${e.reason} (${e.waived.length ? `waives ${e.waived.length} violation${e.waived.length === 1 ? '' : 's'}` : 'unused: waives nothing'})`,
    ),
  );
  if (schema.length) lines.push('', `Schema problems (${schema.length}):`, ...schema);
  if (policy.length) lines.push('', `Policy violations (${policy.length}):`, ...policy);
  lines.push('', `Exemptions (${exemptions.length}):`, ...(exemptions.length ? exemptions : ['  none']));
  const total = problemCount(regions);
  lines.push('', total ? `FAILED: ${total} problem${total === 1 ? '' : 's'}` : 'OK: no schema problems, no policy violations');
  return lines.join('\n');
}
