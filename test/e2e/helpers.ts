// What every e2e test needs: the running environment, an operator in this process, kubectl,
// IAM read directly from moto (not through the counting proxy), and waits with deadlines.
import { EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { parseConfig, type OperatorConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/log.ts';
import { Operator, type OperatorHooks } from '../../src/operator.ts';
import { fetchCalls, isWrite, type AwsCall } from '../env/aws-proxy.ts';
import {
  createEksCluster as createClusterIn,
  createOidcProvider,
  operatorKubeWrites as auditedWrites,
  runKubectl,
  TEST_CLUSTER,
  TEST_ISSUER,
  TEST_REGION,
  REPO,
  type AuditEvent,
  type EnvInfo,
} from '../env/cluster.ts';
import { parsePolicyDocument } from '../../src/policy/document.ts';
import { waitFor } from '../env/processes.ts';

export { REPO, TEST_ISSUER, waitFor };

process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.AWS_REGION ??= TEST_REGION;

export function env(): EnvInfo {
  const raw = process.env.IRSA_TESTENV;
  if (!raw) throw new Error('IRSA_TESTENV is unset: run the e2e tests through `npm run test:e2e` (global setup starts the environment)');
  return JSON.parse(raw) as EnvInfo;
}

/** IAM as moto has it, read without going through the counting proxy. */
export function iam(region = TEST_REGION): IAMClient {
  return new IAMClient({ region, endpoint: env().motoUrl });
}

/**
 * IAM of another account as moto has it (moto keys its backends by the account of the credentials
 * AssumeRole answered), read without going through the counting proxy.
 */
export async function iamIn(account: string, region = TEST_REGION): Promise<IAMClient> {
  const sts = new STSClient({ region, endpoint: env().motoUrl });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/e2e-reader`, RoleSessionName: 'e2e' }));
  sts.destroy();
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`moto answered AssumeRole into ${account} without credentials`);
  return new IAMClient({
    region,
    endpoint: env().motoUrl,
    credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
  });
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await runKubectl(env(), args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function kubectlResult(args: string[], input?: string) {
  return runKubectl(env(), args, input);
}

/** `kubectl apply` of an IamServiceAccount in `ns`, as a user applies YAML. */
export async function applyIamsa(ns: string, name: string, spec: object): Promise<void> {
  await kubectl(
    ['apply', '-n', ns, '-f', '-'],
    JSON.stringify({ apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name }, spec }),
  );
}

export async function getJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

let nsCounter = 0;
export async function newNamespace(prefix = 'e2e'): Promise<string> {
  const ns = `${prefix}-${process.pid}-${++nsCounter}`;
  await kubectl(['create', 'namespace', ns]);
  return ns;
}

/** Empties moto and creates the cluster's OIDC provider in it. */
/** A fresh IAM with the cluster's OIDC provider, accepting `clientIds` as audiences. */
export async function resetAws(issuer = TEST_ISSUER, region = TEST_REGION, clientIds?: readonly string[]): Promise<void> {
  const res = await fetch(`${env().motoUrl}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
  await createOidcProvider(env().motoUrl, issuer, region, clientIds);
}

/** The operator's cluster as an EKS cluster in moto (Pod Identity needs it); returns its ARN. */
export async function createEksCluster(region = TEST_REGION): Promise<string> {
  return createClusterIn(env().motoUrl, region);
}

/** EKS as the operator sees it: moto's clusters and the proxy's Pod Identity associations (calls are logged). */
export function eks(region = TEST_REGION): EKSClient {
  return new EKSClient({ region, endpoint: env().awsEndpoint });
}

export async function awsCalls(): Promise<AwsCall[]> {
  return fetchCalls(env().awsEndpoint);
}
export { isWrite };

/** Writes the operator's user made, from the apiserver's audit log. */
export function operatorKubeWrites(): AuditEvent[] {
  return auditedWrites(env().auditLog);
}

export function testConfig(overrides: Partial<OperatorConfig> = {}): OperatorConfig {
  return parseConfig({
    clusterName: TEST_CLUSTER,
    region: TEST_REGION,
    oidcIssuer: env().issuer,
    awsEndpoint: env().awsEndpoint,
    httpPort: 0,
    logLevel: 'error',
    ...overrides,
  });
}

export async function startOperator(overrides: Partial<OperatorConfig> = {}, hooks: OperatorHooks = {}): Promise<Operator> {
  const kc = new KubeConfig();
  kc.loadFromFile(env().operatorKubeconfig);
  const config = testConfig(overrides);
  const op = new Operator(config, kc, makeLogger(process.env.IRSA_TEST_LOG ?? config.logLevel), hooks);
  await op.start();
  return op;
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface IamsaJson {
  metadata: { name: string; namespace: string; generation: number; finalizers?: string[] };
  status?: {
    conditions?: Condition[];
    roleARN?: string;
    roleName?: string;
    serviceAccountName?: string;
    observedGeneration?: number;
    attachedPolicyARNs?: string[];
    podIdentityAssociationARN?: string;
    podIdentityAssociationID?: string;
  };
}

export async function getIamsa(ns: string, name: string): Promise<IamsaJson> {
  return getJson<IamsaJson>(['-n', ns, 'get', 'iamserviceaccount', name]);
}

/** Waits until condition `type` has `status` (and `reason`, if given) for the current generation. */
export async function waitForCondition(
  ns: string,
  name: string,
  type: string,
  status: string,
  reason?: string,
  timeoutMs = 30_000,
): Promise<IamsaJson> {
  let last: IamsaJson | undefined;
  try {
    await waitFor(
      `${ns}/${name} ${type}=${status}${reason ? ` (${reason})` : ''}`,
      async () => {
        last = await getIamsa(ns, name);
        const c = last.status?.conditions?.find((x) => x.type === type);
        return c?.status === status && (reason === undefined || c.reason === reason) && c.observedGeneration === last.metadata.generation;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
  return last as IamsaJson;
}

export async function waitGone(args: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(`${args.join(' ')} to be gone`, async () => (await kubectlResult(['get', ...args])).code !== 0, timeoutMs, 100);
}

/** A policy document as IAM returns it (URL-encoded JSON), parsed. */
export function decodeDoc(text: string | undefined): unknown {
  return text ? parsePolicyDocument(text) : undefined;
}
