/**
 * Health probes as cloud-provider-azure builds them (azure_loadbalancer_healthprobe.go).
 *
 * externalTrafficPolicy Local: one HTTP probe of kube-proxy's healthCheckNodePort on
 * `/healthz`, shared by every rule of the Service, so nodes without a local endpoint
 * leave the pool. Cluster: a probe per TCP port on its NodePort; UDP ports get none.
 * Protocol: `port_{port}_health-probe_protocol` > appProtocol > the Service-wide
 * annotation > Tcp (unknown values fall back to Tcp). Path: the port annotation > the
 * Service-wide one > `/`.
 */
import type { Service, ServicePort } from '../../model/types.js';
import type { LoadBalancerProbe } from '../snapshot.js';
import { ANNOTATIONS, healthProbeAnnotation, int32Annotation, type AnnotationProblem, type HealthProbeParam } from './annotations.js';
import { ruleName } from './names.js';

const DEFAULT_INTERVAL = 5;
const DEFAULT_NUM_OF_PROBE = 2;
/** Azure: interval × number of probes must stay under 120 seconds. */
const MAX_TOTAL_SECONDS = 120;
const LOCAL_PROBE_PATH = '/healthz';

export interface ProbeTiming {
  readonly intervalInSeconds: number;
  readonly numberOfProbes: number;
  readonly problems: readonly AnnotationProblem[];
}

function timingParam(service: Service, port: number, param: HealthProbeParam, serviceKey: string, fallback: number, min: number) {
  const validate = (n: number) => (n < min ? `the minimum value of ${param} is ${min}` : undefined);
  const annotations = service.metadata.annotations;
  const perPort = int32Annotation(annotations, healthProbeAnnotation(port, param), fallback, validate);
  if (perPort.present) return { ...perPort, key: healthProbeAnnotation(port, param) };
  return { ...int32Annotation(annotations, serviceKey, fallback, validate), key: serviceKey };
}

/** getHealthProbeConfigProbeIntervalAndNumOfProbe: per-port annotations first, then Service-wide ones. */
export function probeTiming(service: Service, port: number): ProbeTiming {
  const num = timingParam(service, port, 'num-of-probe', ANNOTATIONS.probeNumOfProbe, DEFAULT_NUM_OF_PROBE, 2);
  const interval = timingParam(service, port, 'interval', ANNOTATIONS.probeInterval, DEFAULT_INTERVAL, 5);
  const problems = [num.problem, interval.problem].filter((p): p is AnnotationProblem => p !== undefined);
  if (problems.length === 0 && interval.value * num.value >= MAX_TOTAL_SECONDS) {
    const at = interval.present ? interval : num;
    return {
      intervalInSeconds: DEFAULT_INTERVAL,
      numberOfProbes: DEFAULT_NUM_OF_PROBE,
      problems: [
        {
          key: at.key,
          value: service.metadata.annotations[at.key] ?? '',
          detail: 'total probe should be less than 120, please adjust interval and number of probe accordingly',
        },
      ],
    };
  }
  return { intervalInSeconds: interval.value, numberOfProbes: num.value, problems };
}

function withTiming(probe: Omit<LoadBalancerProbe, 'intervalInSeconds' | 'numberOfProbes'>, timing: ProbeTiming): LoadBalancerProbe {
  return { ...probe, intervalInSeconds: timing.intervalInSeconds, numberOfProbes: timing.numberOfProbes };
}

/** The shared probe of an externalTrafficPolicy Local Service, named like a TCP rule on that port. */
export function healthCheckProbe(service: Service, frontend: string, healthCheckNodePort: number): LoadBalancerProbe {
  return withTiming(
    { name: ruleName(frontend, 'TCP', healthCheckNodePort), protocol: 'Http', port: healthCheckNodePort, requestPath: LOCAL_PROBE_PATH },
    probeTiming(service, healthCheckNodePort),
  );
}

export function probeProtocol(service: Service, port: ServicePort): LoadBalancerProbe['protocol'] {
  const annotations = service.metadata.annotations;
  // The first one present decides, even when its value is unknown (then Tcp).
  const chosen = annotations[healthProbeAnnotation(port.port, 'protocol')] ?? port.appProtocol ?? annotations[ANNOTATIONS.probeProtocol] ?? 'Tcp';
  switch (chosen.trim().toLowerCase()) {
    case 'http':
      return 'Http';
    case 'https':
      return 'Https';
    default:
      return 'Tcp';
  }
}

/** The probe of one port under externalTrafficPolicy Cluster; undefined for UDP and SCTP ports. */
export function portProbe(service: Service, port: ServicePort, nodePort: number, name: string): LoadBalancerProbe | undefined {
  if (port.protocol !== 'TCP') return undefined;
  const protocol = probeProtocol(service, port);
  const annotations = service.metadata.annotations;
  const requestPath =
    protocol === 'Tcp' ? undefined : (annotations[healthProbeAnnotation(port.port, 'request-path')] ?? annotations[ANNOTATIONS.probeRequestPath] ?? '/');
  return withTiming({ name, protocol, port: nodePort, ...(requestPath === undefined ? {} : { requestPath }) }, probeTiming(service, port.port));
}
