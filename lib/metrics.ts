import { PortRef } from './traffic';
import { Workload } from './workload';

/**
 * A metrics endpoint a component exposes. The monitoring component turns each into a scrape
 * config (PodMonitor/ServiceMonitor), declares the Prometheus -> workload flow in the TrafficGraph,
 * and the mesh derives port-level mTLS exceptions for scrape ports from it.
 */
export interface ScrapeEndpoint {
  /** Scrape job name, e.g. `redis-exporter`. */
  readonly job: string;
  /** Pods to scrape. */
  readonly workload: Workload;
  /** Container port serving metrics. */
  readonly port: PortRef;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default '30s' */
  readonly interval?: string;
}

/** Implemented by components that expose metrics. */
export interface MetricsSource {
  readonly scrapeEndpoints: readonly ScrapeEndpoint[];
}
