import { Construct } from 'constructs';
import { MetricsSource } from '../../lib/metrics';
import { Monitoring } from './index';
import { MonitoringSettings } from './settings';
import { GatewayMetricsSource, MeshMetricsSource, RedisMetricsSource } from './sources';

export interface RegionMonitoringProps {
  readonly settings: MonitoringSettings;
  readonly region: string;
  readonly environment: 'staging' | 'prod';
  readonly zones: readonly string[];
  readonly redis?: RedisMetricsSource;
  readonly gateway?: GatewayMetricsSource;
  readonly mesh?: MeshMetricsSource;
  readonly sources?: readonly MetricsSource[];
}

/** The region's monitoring as the stack config describes it, wired to the region's components by reference. */
export function monitoringFromConfig(scope: Construct, props: RegionMonitoringProps): Monitoring {
  const { settings } = props;
  const namespace = settings.namespace ?? settings.prometheus.namespace;
  return new Monitoring(scope, 'monitoring', {
    region: props.region,
    environment: props.environment,
    mode: settings.mode,
    prometheus: { ...settings.prometheus, description: 'Prometheus' },
    namespace,
    selectorLabels: settings.selectorLabels,
    scrapeInterval: settings.scrapeInterval,
    grafana: settings.grafana,
    runbookBaseUrl: settings.runbookBaseUrl,
    thresholds: settings.alerts,
    redis: props.redis,
    gateway: props.gateway,
    mesh: props.mesh,
    sources: props.sources,
    standalone: settings.standalone,
    zones: props.zones,
  });
}
