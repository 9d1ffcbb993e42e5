// What the kubelet gives the operator's container besides the image, made for the test
// environment: the ConfigMap of config/manager mounted where the Deployment mounts it, the
// ServiceAccount's token, CA and namespace where every pod has them, and the KUBERNETES_SERVICE_*
// variables, so that the operator finds the apiserver the in-cluster way, as in a cluster.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config.ts';
import { TEST_CLUSTER, TEST_ISSUER, TEST_REGION, type EnvInfo } from '../env/cluster.ts';
import { removeOnExit } from '../env/processes.ts';
import type { OperatorDeployment } from './deployment.ts';

const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** config.yaml of the ConfigMap in `file` (config/manager/config.yaml). */
function configMapConfig(file: string): Record<string, unknown> {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as { kind?: string; data?: Record<string, string> };
    const text = o.kind === 'ConfigMap' ? o.data?.['config.yaml'] : undefined;
    if (text !== undefined) return parse(text) as Record<string, unknown>;
  }
  throw new Error(`${file} has no ConfigMap with config.yaml`);
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority': string } }[];
  users: { user: { token: string } }[];
}

export interface Pod {
  /** `podman run` flags: the mounts and the variables. */
  runFlags: string[];
  httpPort: number;
  leaseNamespace: string;
  remove: () => void;
}

/**
 * The pod's files in a directory of their own (in /dev/shm when there is one), readable by the
 * container's user as the kubelet's projected volumes are. `httpPort`: the container shares the
 * host's network, so the operator listens on a free port rather than the Deployment's 8080.
 */
export function makePod(env: EnvInfo, deployment: OperatorDeployment, configMapFile: string, namespace: string, httpPort: number): Pod {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'irsa-image-pod-'));
  const remove = removeOnExit(dir);
  // The ConfigMap as install.md says to set it (clusterName, region), plus what only the test
  // environment needs: its issuer (no EKS to ask) and IAM endpoint (moto, behind the proxy).
  const config: Record<string, unknown> = {
    ...configMapConfig(configMapFile),
    clusterName: TEST_CLUSTER,
    region: TEST_REGION,
    oidcIssuer: TEST_ISSUER,
    awsEndpoint: env.awsEndpoint,
    httpPort,
  };
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  const configFile = deployment.env.IRSA_CONFIG ?? join(deployment.configMountPath, 'config.yaml');
  writeFileSync(join(configDir, configFile.slice(deployment.configMountPath.length + 1)), JSON.stringify(config));

  const kc = JSON.parse(readFileSync(env.operatorKubeconfig, 'utf8')) as Kubeconfig;
  const cluster = kc.clusters[0]?.cluster;
  const token = kc.users[0]?.user.token;
  if (!cluster || !token) throw new Error(`${env.operatorKubeconfig}: no cluster or token`);
  const server = new URL(cluster.server);
  const saDir = join(dir, 'serviceaccount');
  mkdirSync(saDir);
  writeFileSync(join(saDir, 'token'), token);
  writeFileSync(join(saDir, 'ca.crt'), readFileSync(cluster['certificate-authority']));
  writeFileSync(join(saDir, 'namespace'), namespace);
  for (const d of [dir, configDir, saDir]) chmodSync(d, 0o755);

  // As the operator will read it (and a bad field fails here, with the operator's own message).
  const { leaderElection, leaderElectionNamespace } = parseConfig(config);
  if (!leaderElection) throw new Error(`${configMapFile}: leaderElection is off; the test checks the Lease is released`);
  return {
    runFlags: [
      `--volume=${configDir}:${deployment.configMountPath}:ro`,
      `--volume=${saDir}:${SERVICEACCOUNT_DIR}:ro`,
      `--env=KUBERNETES_SERVICE_HOST=${server.hostname}`,
      `--env=KUBERNETES_SERVICE_PORT=${server.port}`,
      // In a cluster the role comes through IRSA (a web identity token); moto takes any key.
      '--env=AWS_ACCESS_KEY_ID=testing',
      '--env=AWS_SECRET_ACCESS_KEY=testing',
    ],
    httpPort,
    leaseNamespace: leaderElectionNamespace,
    remove,
  };
}
