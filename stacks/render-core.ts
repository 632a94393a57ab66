import * as fs from 'fs';
import * as path from 'path';
import { dump } from 'js-yaml';
import { RegionConfig, StackConfig } from './config/load';
import { buildRegionChart } from './region-chart';
import { KubeObject, SynthObject, synthesizeChart } from './synth';

export interface RenderedRegion {
  readonly region: RegionConfig;
  readonly objects: readonly SynthObject[];
}

/** Picks the regions named in `only` (all when empty); unknown names are an error listing the known ones. */
export function selectRegions(config: StackConfig, only: readonly string[] = []): RegionConfig[] {
  const known = config.regions.map((r) => r.name);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length) {
    throw new Error(`${config.file}: unknown region${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (stack ${config.stack} has: ${known.join(', ')})`);
  }
  return config.regions.filter((r) => only.length === 0 || only.includes(r.name));
}

export function synthesizeRegion(config: StackConfig, region: RegionConfig): RenderedRegion {
  return { region, objects: synthesizeChart(buildRegionChart(config, region).chart) };
}

/** YAML with sorted keys: byte-identical for identical objects. */
export function manifestYaml(manifest: KubeObject): string {
  // js-yaml: several times faster than `yaml` for dumping, which dominates large renders.
  return dump(manifest, { sortKeys: true, lineWidth: -1, noRefs: true });
}

/** CRDs go first so that `kubectl apply -f <region>/` establishes them before their custom resources. */
export const CRD_FILE = '0-crds.yaml';
export const MANIFEST_FILE = '1-manifests.yaml';

/**
 * The files of one region: its objects as multi-document YAML in dependency order (namespaces before
 * what lives in them), CRDs in their own first file. Two files per region rather than one per
 * object: file creation, not YAML, dominates the cost of rendering many regions.
 */
export function regionFiles(rendered: RenderedRegion): Map<string, string> {
  const docs = new Map<string, string[]>([
    [CRD_FILE, []],
    [MANIFEST_FILE, []],
  ]);
  for (const { manifest } of rendered.objects) docs.get(manifest.kind === 'CustomResourceDefinition' ? CRD_FILE : MANIFEST_FILE)!.push(manifestYaml(manifest));
  return new Map([...docs].filter(([, list]) => list.length > 0).map(([file, list]) => [file, list.map((d) => `---\n${d}`).join('')]));
}

/**
 * Writes `<outDir>/<stack>/<region>/...` for each rendered region. Everything is generated before
 * anything is written; each region folder is built in a temporary sibling and renamed into place,
 * so an error never leaves a half-written folder.
 */
export function writeRegions(outDir: string, stack: string, regions: readonly RenderedRegion[]): string[] {
  const stackDir = path.resolve(outDir, stack);
  const prepared = regions.map((r) => ({ name: r.region.name, files: regionFiles(r) }));
  fs.mkdirSync(stackDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(stackDir, '.render-'));
  try {
    for (const { name, files } of prepared) {
      for (const [rel, content] of files) {
        const full = path.join(staging, name, rel);
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, content);
      }
    }
    const written: string[] = [];
    for (const { name } of prepared) {
      const target = path.join(stackDir, name);
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(path.join(staging, name), target);
      written.push(target);
    }
    return written;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
