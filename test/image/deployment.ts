// The operator's Deployment (config/manager) translated into `podman run` flags, so that the image
// test runs the container the way the kubelet would. Every field of the container's and the pod's
// securityContext is either translated or refused: a setting added to the Deployment that this
// file does not know fails the test instead of being silently left out.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { quantityBytes } from '../bench/production.ts';

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

interface ContainerSpec {
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string; cpu?: string } };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: SecurityContext;
  containers: ContainerSpec[];
}

export interface OperatorDeployment {
  /** `podman run` flags for the security context, the resources and the env. */
  runFlags: string[];
  uid: number;
  gid: number;
  memoryLimitBytes: number;
  /** The pod's terminationGracePeriodSeconds (Kubernetes' default: 30). */
  gracePeriodSeconds: number;
  /** Where the container mounts its configuration (the ConfigMap volume), read-only. */
  configMountPath: string;
  env: Record<string, string>;
}

const KNOWN_KEYS = new Set([
  'runAsNonRoot',
  'runAsUser',
  'runAsGroup',
  'readOnlyRootFilesystem',
  'allowPrivilegeEscalation',
  'capabilities',
  'seccompProfile',
]);

/** "500m" or "2" CPUs as a number. */
function cpus(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

export function operatorDeployment(file: string): OperatorDeployment {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map(
    (d) => d.toJS() as { kind?: string; spec?: { template?: { spec?: PodSpec } } },
  );
  const pod = docs.find((d) => d.kind === 'Deployment')?.spec?.template?.spec;
  const c = pod?.containers[0];
  if (!pod || !c) throw new Error(`${file} has no Deployment with a container`);
  // The container's securityContext overrides the pod's, field by field, as in Kubernetes.
  const sc: SecurityContext = { ...pod.securityContext, ...c.securityContext };
  const unknown = Object.keys(sc).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length > 0)
    throw new Error(`${file}: securityContext.${unknown.join(', ')}: not translated to podman by test/image/deployment.ts`);
  if (sc.runAsUser === undefined || sc.runAsGroup === undefined)
    throw new Error(`${file}: runAsUser and runAsGroup must be set (the test checks the process runs as them)`);
  if (sc.runAsNonRoot === true && sc.runAsUser === 0) throw new Error(`${file}: runAsNonRoot with runAsUser 0`);
  if (sc.capabilities?.add?.length) throw new Error(`${file}: capabilities.add is not translated`);
  if (sc.seccompProfile && sc.seccompProfile.type !== 'RuntimeDefault')
    throw new Error(`${file}: seccompProfile ${sc.seccompProfile.type} is not translated`);

  const memory = c.resources?.limits?.memory;
  if (!memory) throw new Error(`${file}: the container has no limits.memory`);
  const memoryLimitBytes = quantityBytes(memory);
  const fromElsewhere = (c.env ?? []).filter((e) => e.value === undefined).map((e) => e.name);
  if (fromElsewhere.length > 0) throw new Error(`${file}: env ${fromElsewhere.join(', ')} without a literal value: not translated`);
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
  const configMount = c.volumeMounts?.find((m) => m.mountPath === '/etc/irsa' || env.IRSA_CONFIG?.startsWith(`${m.mountPath}/`));
  if (!configMount) throw new Error(`${file}: no volume mount holds IRSA_CONFIG (${env.IRSA_CONFIG ?? 'unset'})`);

  const runFlags = [
    `--user=${sc.runAsUser}:${sc.runAsGroup}`,
    // The memory limit as the kubelet sets it, swap included (a pod gets none).
    `--memory=${memoryLimitBytes}b`,
    `--memory-swap=${memoryLimitBytes}b`,
  ];
  const cpu = c.resources?.limits?.cpu;
  if (cpu) runFlags.push(`--cpus=${cpus(cpu)}`);
  if (sc.readOnlyRootFilesystem) {
    // Kubernetes mounts no tmpfs anywhere for a read-only root; podman does on /tmp, /var/tmp and
    // /run unless told not to.
    runFlags.push('--read-only', '--read-only-tmpfs=false');
  }
  if (sc.allowPrivilegeEscalation === false) runFlags.push('--security-opt=no-new-privileges');
  for (const cap of sc.capabilities?.drop ?? []) runFlags.push(`--cap-drop=${cap}`);
  // seccompProfile RuntimeDefault is podman's default profile: nothing to add (the test reads
  // Seccomp: 2 from the process's status).
  for (const [k, v] of Object.entries(env)) runFlags.push(`--env=${k}=${v}`);

  return {
    runFlags,
    uid: sc.runAsUser,
    gid: sc.runAsGroup,
    memoryLimitBytes,
    gracePeriodSeconds: pod.terminationGracePeriodSeconds ?? 30,
    configMountPath: configMount.mountPath,
    env,
  };
}
