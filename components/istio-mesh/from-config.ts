import { Construct } from 'constructs';
import { MetricsSource } from '../../lib/metrics';
import { MeshSettings, RegionMesh } from './config';
import { IngressTarget, IstioMesh, MeshService } from './index';

export interface RegionMeshProps {
  readonly settings: MeshSettings;
  /** The region's resolved network, locality and failover order. */
  readonly region: RegionMesh;
  readonly zones: readonly string[];
  /** Services of this region's components that get DestinationRules. */
  readonly services: readonly MeshService[];
  /** Components whose metrics Prometheus scrapes. */
  readonly metricsSources: readonly MetricsSource[];
  /** Kong's proxy; without it there is no public ingress. */
  readonly ingressTarget?: IngressTarget;
}

/** The region's mesh configuration as the stack config describes it. */
export function meshFromConfig(scope: Construct, props: RegionMeshProps): IstioMesh {
  const { settings: s, region } = props;
  const gw = s.eastWestGateway;
  return new IstioMesh(scope, 'istio-mesh', {
    meshId: s.meshId,
    network: region.network,
    locality: region.locality,
    failoverLocalities: region.failoverLocalities,
    trustDomain: s.trustDomain,
    rootNamespace: s.rootNamespace,
    meshWideStrictMtls: s.meshWideStrictMtls,
    injection: s.injection === 'revision' ? { mode: 'revision', revision: s.revision! } : { mode: 'label' },
    outboundTrafficPolicy: s.outboundTrafficPolicy,
    controlPlane: s.controlPlane,
    services: props.services,
    metricsSources: props.metricsSources,
    metricsScrape: s.metricsScrape,
    connectionPool: s.connectionPool,
    outlierDetection: s.outlierDetection,
    externalServices: s.externalServices,
    ingress: props.ingressTarget
      ? {
          target: props.ingressTarget,
          hosts: s.ingress.hosts,
          credentialName: s.ingress.credentialName,
          gatewaySelector: s.ingress.gatewaySelector,
          gatewayNamespace: s.ingress.gatewayNamespace,
          gatewayServiceAccount: s.ingress.gatewayServiceAccount,
          httpsRedirect: s.ingress.httpsRedirect,
          timeout: s.ingress.timeout,
          retries: s.ingress.retries,
        }
      : undefined,
    eastWestGateway: gw.enabled
      ? {
          namespace: gw.namespace,
          replicas: gw.replicas,
          maxReplicas: gw.maxReplicas,
          resources: { cpuRequest: gw.cpuRequest, cpuLimit: gw.cpuLimit, memoryRequest: gw.memoryRequest, memoryLimit: gw.memoryLimit },
          serviceType: gw.serviceType,
          serviceAnnotations: gw.serviceAnnotations,
          allowedSourceCidrs: gw.allowedSourceCidrs,
          zones: props.zones,
        }
      : false,
  });
}
