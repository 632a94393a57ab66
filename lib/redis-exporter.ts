import { k8s } from 'cdk8s-plus-28';
import { PortRef } from './traffic';
import { resourceRequirements, restrictedContainerSecurityContext } from './workload';

export const DEFAULT_REDIS_EXPORTER_IMAGE = 'oliver006/redis_exporter:v1.67.0';

export interface RedisExporterOptions {
  /** @default DEFAULT_REDIS_EXPORTER_IMAGE */
  readonly image?: string;
  /** Port of the Redis server in the same pod. */
  readonly redisPort: number;
  /** Metrics port (name and number). */
  readonly port: PortRef;
  /** The REDIS_PASSWORD variable, from the server's Secret. */
  readonly passwordEnv: k8s.EnvVar;
}

/** redis_exporter sidecar scraping the Redis server of its own pod over loopback. */
export function redisExporterContainer(options: RedisExporterOptions): k8s.Container {
  const port = k8s.IntOrString.fromString(options.port.name);
  return {
    name: 'exporter',
    image: options.image ?? DEFAULT_REDIS_EXPORTER_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    env: [
      { name: 'REDIS_ADDR', value: `redis://127.0.0.1:${options.redisPort}` },
      options.passwordEnv,
      { name: 'REDIS_EXPORTER_WEB_LISTEN_ADDRESS', value: `:${options.port.port}` },
    ],
    ports: [{ name: options.port.name, containerPort: options.port.port, protocol: 'TCP' }],
    resources: resourceRequirements({ cpuRequest: '25m', cpuLimit: '200m', memoryRequest: '32Mi', memoryLimit: '64Mi' }),
    livenessProbe: { httpGet: { path: '/health', port }, periodSeconds: 20, timeoutSeconds: 3 },
    readinessProbe: { httpGet: { path: '/health', port }, periodSeconds: 10, timeoutSeconds: 3 },
    securityContext: restrictedContainerSecurityContext(),
  };
}
