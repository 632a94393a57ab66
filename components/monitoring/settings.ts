import { z } from 'zod';
import { parseMemory } from '../../lib/quantity';
import { cpuQuantity, dnsLabel, Environment, memoryQuantity, pinnedImage } from '../../stacks/config/schema';

/**
 * The `fingerprint-infra:monitoring` config section: how this program plugs into (or deploys) the
 * region's Prometheus, Alertmanager and Grafana, and the alert thresholds of each environment.
 * Documented in README "Config reference"; every default below is per environment.
 */

export const MONITORING_MODES = ['existing', 'standalone'] as const;
/** Where RUNBOOKS.md is published; set `runbookBaseUrl` when the repository lives elsewhere. */
export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/fingerprint-platform/fingerprint-infra/blob/main/components/monitoring/RUNBOOKS.md';
export type MonitoringMode = (typeof MONITORING_MODES)[number];

/** Alert thresholds; a rule fires only above them (see components/monitoring/RUNBOOKS.md). */
export interface AlertThresholds {
  readonly redis: {
    /** used_memory / maxmemory above which a `noeviction` node warns (writes fail once full). */
    readonly memoryRatio: number;
    /** Evicted keys per second per node; set above the steady-state eviction rate of a full cache. */
    readonly evictionsPerSecond: number;
    /** connected_clients / maxclients. */
    readonly connectionsRatio: number;
  };
  readonly kong: {
    /** Share of 5xx responses per service. */
    readonly errorRatio: number;
    readonly p99LatencyMs: number;
    /** Below this request rate a service's ratios and percentiles are noise and do not alert. */
    readonly minRequestsPerSecond: number;
    /** Rejected or failed commands per second on the rate-limit counter store. */
    readonly rateLimitStoreErrorsPerSecond: number;
  };
  readonly istio: {
    readonly errorRatio: number;
    readonly p99LatencyMs: number;
    readonly minRequestsPerSecond: number;
  };
}

export const ALERT_DEFAULTS: Record<Environment, AlertThresholds> = {
  staging: {
    redis: { memoryRatio: 0.9, evictionsPerSecond: 100, connectionsRatio: 0.8 },
    kong: { errorRatio: 0.05, p99LatencyMs: 1000, minRequestsPerSecond: 0.5, rateLimitStoreErrorsPerSecond: 0 },
    istio: { errorRatio: 0.05, p99LatencyMs: 1000, minRequestsPerSecond: 0.5 },
  },
  prod: {
    redis: { memoryRatio: 0.9, evictionsPerSecond: 500, connectionsRatio: 0.8 },
    kong: { errorRatio: 0.01, p99LatencyMs: 500, minRequestsPerSecond: 1, rateLimitStoreErrorsPerSecond: 0 },
    istio: { errorRatio: 0.01, p99LatencyMs: 500, minRequestsPerSecond: 1 },
  },
};

/** Images of the standalone stack (pinned). */
export const STANDALONE_IMAGES = {
  prometheus: 'quay.io/prometheus/prometheus:v2.54.1',
  alertmanager: 'quay.io/prometheus/alertmanager:v0.27.0',
  grafana: 'grafana/grafana:11.2.2',
} as const;

/** Standalone stack sizing per environment. */
export const STANDALONE_DEFAULTS: Record<
  Environment,
  {
    prometheus: { replicas: number; retention: string; retentionSize: string; storageSize: string; cpuRequest: string; cpuLimit: string; memory: string };
    alertmanager: { replicas: number; storageSize: string };
    grafana: { replicas: number };
  }
> = {
  staging: {
    prometheus: { replicas: 1, retention: '7d', retentionSize: '18GB', storageSize: '20Gi', cpuRequest: '250m', cpuLimit: '1', memory: '2Gi' },
    alertmanager: { replicas: 1, storageSize: '1Gi' },
    grafana: { replicas: 1 },
  },
  prod: {
    prometheus: { replicas: 2, retention: '15d', retentionSize: '90GB', storageSize: '100Gi', cpuRequest: '1', cpuLimit: '2', memory: '8Gi' },
    alertmanager: { replicas: 2, storageSize: '2Gi' },
    grafana: { replicas: 1 },
  },
};

const labelMap = z.record(z.string().min(1), z.string());
const ratio = z.number().gt(0, { error: 'must be greater than 0' }).max(1, { error: 'must be at most 1' });
const nonNegative = z.number().min(0, { error: 'must be 0 or more' });
/** Prometheus duration such as 30s, 5m, 15d. */
export const promDuration = z.string().regex(/^([0-9]+(ms|s|m|h|d|w|y))+$/, { error: 'must be a Prometheus duration such as 30s, 5m or 15d' });
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15, EB: 1e18 };
/** Prometheus retention size such as 50GB. */
const byteSize = z.string().regex(/^[0-9]+(B|KB|MB|GB|TB|PB|EB)$/, { error: 'must be a size such as 500MB or 50GB' });

export function monitoringSettingsSchema(env: Environment) {
  const a = ALERT_DEFAULTS[env];
  const s = STANDALONE_DEFAULTS[env];
  return z
    .strictObject({
      /**
       * `existing`: plug into the cluster's kube-prometheus-stack (monitors, rules and dashboards only);
       * `standalone`: also deploy Prometheus, Alertmanager (prometheus-operator CRs) and Grafana.
       */
      mode: z.enum(MONITORING_MODES).default('existing'),
      /** The cluster's Prometheus (mode `existing`): the peer allowed to scrape this program's workloads. */
      prometheus: z
        .strictObject({
          namespace: dnsLabel.default('monitoring'),
          podLabels: labelMap.default({ 'app.kubernetes.io/name': 'prometheus' }),
          serviceAccountName: z.string().min(1).default('kube-prometheus-stack-prometheus'),
        })
        .prefault({}),
      /** Namespace of the PrometheusRules and dashboard ConfigMaps (and the standalone stack). @default prometheus.namespace */
      namespace: dnsLabel.optional(),
      /**
       * Labels on every PodMonitor and PrometheusRule; kube-prometheus-stack selects monitors and rules by
       * its release label and ignores the rest.
       */
      selectorLabels: labelMap
        .refine((labels) => Object.keys(labels).length > 0, { error: 'must set at least one label (the Prometheus selects monitors and rules by it)' })
        .default({ release: 'kube-prometheus-stack' }),
      scrapeInterval: promDuration.default('30s'),
      grafana: z
        .strictObject({
          /** Label the Grafana dashboard sidecar watches for (kube-prometheus-stack: grafana_dashboard=1). */
          dashboardLabel: z.string().min(1).default('grafana_dashboard'),
          dashboardLabelValue: z.string().default('1'),
          /** Annotation the sidecar reads the target folder from. */
          folderAnnotation: z.string().min(1).default('grafana_folder'),
          folder: z.string().min(1).default('Fingerprint'),
          /** Namespace the sidecar watches. @default the monitoring namespace */
          namespace: dnsLabel.optional(),
        })
        .prefault({}),
      /** Base of every alert's runbook_url; the alert name is appended as the anchor (see RUNBOOKS.md). */
      runbookBaseUrl: z
        .url({ error: 'must be an absolute URL' })
        .default(DEFAULT_RUNBOOK_BASE_URL),
      alerts: z
        .strictObject({
          redis: z
            .strictObject({
              memoryRatio: ratio.default(a.redis.memoryRatio),
              evictionsPerSecond: nonNegative.default(a.redis.evictionsPerSecond),
              connectionsRatio: ratio.default(a.redis.connectionsRatio),
            })
            .prefault({}),
          kong: z
            .strictObject({
              errorRatio: ratio.default(a.kong.errorRatio),
              p99LatencyMs: z.number().positive().default(a.kong.p99LatencyMs),
              minRequestsPerSecond: nonNegative.default(a.kong.minRequestsPerSecond),
              rateLimitStoreErrorsPerSecond: nonNegative.default(a.kong.rateLimitStoreErrorsPerSecond),
            })
            .prefault({}),
          istio: z
            .strictObject({
              errorRatio: ratio.default(a.istio.errorRatio),
              p99LatencyMs: z.number().positive().default(a.istio.p99LatencyMs),
              minRequestsPerSecond: nonNegative.default(a.istio.minRequestsPerSecond),
            })
            .prefault({}),
        })
        .prefault({}),
      /** Mode `standalone` only. */
      standalone: z
        .strictObject({
          prometheus: z
            .strictObject({
              image: pinnedImage.default(STANDALONE_IMAGES.prometheus),
              replicas: z.number().int().min(1).max(5).default(s.prometheus.replicas),
              retention: promDuration.default(s.prometheus.retention),
              /** Disk budget of the TSDB; keep below storageSize (WAL and compaction need headroom). */
              retentionSize: byteSize.default(s.prometheus.retentionSize),
              storageSize: memoryQuantity.default(s.prometheus.storageSize),
              storageClassName: dnsLabel.optional(),
              cpuRequest: cpuQuantity.default(s.prometheus.cpuRequest),
              cpuLimit: cpuQuantity.default(s.prometheus.cpuLimit),
              memory: memoryQuantity.default(s.prometheus.memory),
            })
            .prefault({}),
          alertmanager: z
            .strictObject({
              image: pinnedImage.default(STANDALONE_IMAGES.alertmanager),
              replicas: z.number().int().min(1).max(5).default(s.alertmanager.replicas),
              storageSize: memoryQuantity.default(s.alertmanager.storageSize),
              storageClassName: dnsLabel.optional(),
            })
            .prefault({}),
          grafana: z
            .strictObject({
              image: pinnedImage.default(STANDALONE_IMAGES.grafana),
              replicas: z.number().int().min(1).max(5).default(s.grafana.replicas),
            })
            .prefault({}),
        })
        .prefault({}),
    })
    .superRefine((settings, ctx) => {
      const p = settings.standalone.prometheus;
      const [, amount, unit] = /^([0-9]+)([A-Z]+)$/.exec(p.retentionSize)!;
      const retentionBytes = Number(amount) * SIZE_UNITS[unit];
      const storageBytes = parseMemory(p.storageSize);
      if (storageBytes !== undefined && retentionBytes > storageBytes * 0.9) {
        ctx.addIssue({
          code: 'custom',
          path: ['standalone', 'prometheus', 'retentionSize'],
          message: `must leave at least 10% of storageSize ${p.storageSize} for the WAL and compaction (got ${p.retentionSize})`,
        });
      }
    })
    .prefault({});
}

export type MonitoringSettings = z.infer<ReturnType<typeof monitoringSettingsSchema>>;
