import { z } from 'zod';
import { cpuQuantity, dnsLabel, Environment, memoryQuantity, regionMeshSchema } from '../../stacks/config/schema';
import { byCodeUnit } from '../../lib/order';

export { regionMeshSchema };

/**
 * The `mesh` stack config section (Istio configuration of the namespaces this program manages) and
 * the per-region `regions[i].mesh` overrides. Defaults per environment are in MESH_DEFAULTS.
 */

/** Envoy/Istio duration such as `250ms`, `15s`, `5m`; Istio's CRDs refuse anything below 1ms. */
export const istioDuration = z
  .string()
  .regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, { error: 'must be a duration such as 500ms, 15s or 5m' })
  .refine((v) => durationMs(v) >= 1, { error: 'must be at least 1ms' });

/** Milliseconds of an Istio duration string (0 when malformed). */
export function durationMs(value: string): number {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of value.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const hostname = z.string().regex(DNS_NAME, { error: 'must be a lowercase DNS name such as api.example.com (a leading "*." is allowed)' });
const labelMap = z.record(z.string(), z.string());
const cidr = z.string().regex(/^([0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}$|^[0-9a-f:]+\/[0-9]{1,3}$/, { error: 'must be a CIDR such as 10.0.0.0/8' });

/** Per-environment defaults (documented in the README config reference). */
export const MESH_DEFAULTS: Record<
  Environment,
  {
    meshId: string;
    maxConnections: number;
    maxPendingRequests: number;
    eastWest: { replicas: number; maxReplicas: number; cpuRequest: string; cpuLimit: string; memoryRequest: string; memoryLimit: string };
  }
> = {
  staging: {
    meshId: 'fingerprint-staging',
    maxConnections: 256,
    maxPendingRequests: 256,
    eastWest: { replicas: 2, maxReplicas: 2, cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '512Mi' },
  },
  prod: {
    meshId: 'fingerprint-prod',
    maxConnections: 2048,
    maxPendingRequests: 1024,
    eastWest: { replicas: 3, maxReplicas: 6, cpuRequest: '500m', cpuLimit: '2', memoryRequest: '256Mi', memoryLimit: '1Gi' },
  },
};

export const OUTBOUND_POLICIES = ['REGISTRY_ONLY', 'ALLOW_ANY'] as const;
export const INJECTION_MODES = ['label', 'revision'] as const;
export const SCRAPE_MODES = ['plaintext', 'mtls'] as const;

const externalServiceSchema = z.strictObject({
  /** ServiceEntry name. */
  name: dnsLabel,
  hosts: z.array(hostname).min(1, { error: 'must list at least one host' }),
  ports: z
    .array(
      z.strictObject({
        number: z.number().int().min(1).max(65535),
        name: dnsLabel,
        protocol: z.enum(['HTTPS', 'TLS', 'TCP', 'HTTP', 'GRPC', 'HTTP2']),
      }),
    )
    .min(1, { error: 'must list at least one port' }),
  /** Managed namespaces whose workloads may reach it; the ServiceEntry is created (and visible) only there. */
  namespaces: z.array(dnsLabel).min(1, { error: 'must name at least one namespace' }),
});

export function meshSettingsSchema(env: Environment) {
  const d = MESH_DEFAULTS[env];
  return z
    .strictObject({
      /** Istio root namespace (mesh-wide policies live there); owned by the platform. */
      rootNamespace: dnsLabel.default('istio-system'),
      /** SPIFFE trust domain of the principals in AuthorizationPolicies; shared by every cluster of the mesh. */
      trustDomain: hostname.default('cluster.local'),
      /** Mesh ID the platform installed istiod with (values.global.meshID); one per environment. */
      meshId: dnsLabel.default(d.meshId),
      /** `label`: istio-injection=enabled; `revision`: istio.io/rev=<revision> (canary control-plane upgrades). */
      injection: z.enum(INJECTION_MODES).default('label'),
      revision: dnsLabel.optional(),
      /** Also STRICT mTLS mesh-wide (PeerAuthentication in the root namespace); other teams' namespaces are affected. */
      meshWideStrictMtls: z.boolean().default(false),
      /**
       * How Prometheus scrapes: `plaintext` when it runs outside the mesh (kube-prometheus-stack default),
       * which opens a PERMISSIVE port-level exception on each scrape port only; `mtls` when it has a sidecar.
       */
      metricsScrape: z.enum(SCRAPE_MODES).default('plaintext'),
      /** Sidecar egress: REGISTRY_ONLY blocks destinations the mesh does not know. */
      outboundTrafficPolicy: z.enum(OUTBOUND_POLICIES).default('REGISTRY_ONLY'),
      /** istiod, which every sidecar reaches on 15012 (xDS and certificates). */
      controlPlane: z
        .strictObject({
          namespace: dnsLabel.default('istio-system'),
          podLabels: labelMap.default({ app: 'istiod' }),
        })
        .prefault({}),
      connectionPool: z
        .strictObject({
          maxConnections: z.number().int().min(1).default(d.maxConnections),
          connectTimeout: istioDuration.default('2s'),
          /** HTTP services only. */
          maxPendingRequests: z.number().int().min(1).default(d.maxPendingRequests),
          /** HTTP services only. */
          idleTimeout: istioDuration.default('300s'),
        })
        .prefault({}),
      outlierDetection: z
        .strictObject({
          /** Consecutive 5xx (HTTP) or connect failures (TCP) before an endpoint is ejected. */
          consecutiveErrors: z.number().int().min(1).default(5),
          interval: istioDuration.default('10s'),
          baseEjectionTime: istioDuration.default('30s'),
          /** 100 lets a whole locality be ejected, which is what triggers failover to the next region. */
          maxEjectionPercent: z.number().int().min(1).max(100).default(100),
        })
        .prefault({}),
      ingress: z
        .strictObject({
          /** Hosts served through the Istio ingress gateway to Kong; no Gateway/VirtualService while empty. */
          hosts: z.array(hostname).default([]),
          /** TLS Secret in the ingress gateway's namespace (provisioned by the platform, e.g. cert-manager). */
          credentialName: dnsLabel.default('fingerprint-api-tls'),
          /** Labels of the platform's ingress gateway pods. */
          gatewaySelector: labelMap.default({ istio: 'ingressgateway' }),
          gatewayNamespace: dnsLabel.default('istio-system'),
          gatewayServiceAccount: dnsLabel.default('istio-ingressgateway-service-account'),
          httpsRedirect: z.boolean().default(true),
          timeout: istioDuration.default('15s'),
          retries: z
            .strictObject({
              attempts: z.number().int().min(0).max(10).default(2),
              perTryTimeout: istioDuration.default('5s'),
              /** Only conditions where the request cannot have been processed: fingerprint writes are not idempotent. */
              retryOn: z.string().min(1).default('connect-failure,refused-stream,unavailable,cancelled'),
            })
            .prefault({}),
        })
        .prefault({}),
      eastWestGateway: z
        .strictObject({
          enabled: z.boolean().default(true),
          namespace: dnsLabel.default('istio-eastwest'),
          replicas: z.number().int().min(1).max(20).default(d.eastWest.replicas),
          /** An HPA scales between `replicas` and this when it is larger. */
          maxReplicas: z.number().int().min(1).max(50).default(d.eastWest.maxReplicas),
          cpuRequest: cpuQuantity.default(d.eastWest.cpuRequest),
          cpuLimit: cpuQuantity.default(d.eastWest.cpuLimit),
          memoryRequest: memoryQuantity.default(d.eastWest.memoryRequest),
          memoryLimit: memoryQuantity.default(d.eastWest.memoryLimit),
          serviceType: z.enum(['LoadBalancer', 'NodePort']).default('LoadBalancer'),
          /** e.g. AWS load balancer annotations. */
          serviceAnnotations: labelMap.default({}),
          /** Where the other regions' sidecars connect from (their NAT or VPC ranges). */
          allowedSourceCidrs: z.array(cidr).min(1).default(['0.0.0.0/0']),
        })
        .prefault({})
        .refine((g) => g.maxReplicas >= g.replicas, { error: 'maxReplicas must be at least replicas', path: ['maxReplicas'] }),
      /** External destinations declared for REGISTRY_ONLY egress. */
      externalServices: z
        .array(externalServiceSchema)
        .default([])
        .refine((list) => new Set(list.map((s) => s.name)).size === list.length, { error: 'must not repeat a name' }),
    })
    .superRefine((mesh, ctx) => {
      if (mesh.injection === 'revision' && !mesh.revision) {
        ctx.addIssue({ code: 'custom', path: ['revision'], message: 'is required when injection is "revision"' });
      }
      if (mesh.injection === 'label' && mesh.revision) {
        ctx.addIssue({ code: 'custom', path: ['revision'], message: 'is only used when injection is "revision"' });
      }
    });
}

export type MeshSettings = z.infer<ReturnType<typeof meshSettingsSchema>>;

export type RegionMeshInput = z.infer<typeof regionMeshSchema>;

/** The mesh settings of one region after defaults and cross-region references are resolved. */
export interface RegionMesh {
  readonly network: string;
  readonly locality: string;
  /** Region names traffic fails over to, in order. */
  readonly failover: readonly string[];
  /** Their localities, in the same order (what DestinationRules name). */
  readonly failoverLocalities: readonly string[];
}

interface RegionLike {
  readonly name: string;
  readonly wave: number;
  readonly mesh?: RegionMeshInput;
}

/**
 * Resolves `regions[index].mesh` against the stack's other regions (entries that failed validation
 * are undefined and ignored). Problems are reported through `problem(keyPath, message)` with key
 * paths relative to the project namespace.
 */
export function resolveRegionMesh(
  regions: readonly (RegionLike | undefined)[],
  index: number,
  problem: (keyPath: string, message: string) => void,
): RegionMesh {
  const region = regions[index]!;
  const mesh = region.mesh ?? {};
  const valid = regions.filter((r): r is RegionLike => r !== undefined);
  const localityOf = (r: RegionLike) => r.mesh?.locality ?? r.name;
  const networkOf = (r: RegionLike) => r.mesh?.network ?? r.name;
  const names = valid.map((r) => r.name);
  const byWave = [...valid].sort((a, b) => a.wave - b.wave || byCodeUnit(a.name, b.name)).map((r) => r.name);
  let failover = byWave.filter((n) => n !== region.name);
  if (mesh.failover) {
    const at = `regions[${index}].mesh.failover`;
    const seen = new Set<string>();
    mesh.failover.forEach((name, i) => {
      if (name === region.name) problem(`${at}[${i}]`, `must not name the region itself ("${name}")`);
      else if (!names.includes(name)) problem(`${at}[${i}]`, `unknown region "${name}" (stack has: ${names.join(', ')})`);
      else if (seen.has(name)) problem(`${at}[${i}]`, `repeats region "${name}"`);
      seen.add(name);
    });
    failover = mesh.failover.filter((n, i) => n !== region.name && names.includes(n) && mesh.failover!.indexOf(n) === i);
  }
  const earlier = regions.findIndex((r, i) => i < index && r !== undefined && networkOf(r) === networkOf(region));
  if (earlier >= 0) {
    problem(`regions[${index}].mesh.network`, `network "${networkOf(region)}" is also regions[${earlier}]'s; every region is its own network`);
  }
  return {
    network: networkOf(region),
    locality: localityOf(region),
    failover,
    failoverLocalities: failover.map((n) => localityOf(valid.find((r) => r.name === n)!)),
  };
}
