// The local environment: etcd + kube-apiserver (real, built by setup.sh) and moto as IAM/STS/EKS
// behind a call-counting proxy, all on loopback, and where asked the real pod identity webhook
// (./webhook.ts). Used by the tests and by `npm start`.
import { generateKeyPairSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateOpenIDConnectProviderCommand, IAMClient } from '@aws-sdk/client-iam';
import { AwsProxy } from './aws-proxy.ts';
import { botocoreModelPath, loadModel } from './aws-model.ts';
import { servingChain } from './certs.ts';
import { PodIdentityStore } from './pod-identity-store.ts';
import { freePort, removeOnExit, startProcess, waitFor, type Started } from './processes.ts';
import { startWebhook, WEBHOOK_USER } from './webhook.ts';

export const REPO = new URL('../../', import.meta.url).pathname;
export const TEST_REGION = 'us-east-1';
export const TEST_ACCOUNT = '123456789012';
export const TEST_CLUSTER = 'local';
/** The issuer the local apiserver signs ServiceAccount tokens with, as on EKS. */
export const TEST_ISSUER = 'https://oidc.irsa.local/id/LOCALTESTENV';

/** What another process needs to use a running environment (serialised into IRSA_TESTENV). */
export interface EnvInfo {
  dir: string;
  apiserverUrl: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
  auditLog: string;
  motoUrl: string;
  awsEndpoint: string;
  kubectl: string;
  /** The pod identity webhook's address, when the environment runs it. */
  webhookUrl?: string;
  /** The issuer of ServiceAccount tokens: TEST_ISSUER, or the apiserver's own URL (EnvOptions.apiserverIssuer). */
  issuer: string;
  /** With apiserverIssuer: the root CA (PEM file) of the apiserver's chain root -> intermediate -> server. */
  issuerCaFile?: string;
}

export interface EnvOptions {
  /** Run the pod identity webhook and register it for pods (needs `setup.sh webhook`). */
  webhook?: boolean;
  /**
   * The apiserver is the issuer itself (a self-managed cluster): --service-account-issuer is its
   * own HTTPS URL, it serves a chain root -> intermediate -> server (test/env/certs.ts), and its
   * discovery document and JWKS are open to anonymous readers (as IAM reads them).
   */
  apiserverIssuer?: boolean;
}

export interface RunningEnv extends EnvInfo {
  stop: () => Promise<void>;
}

interface Binaries {
  KUBE_APISERVER: string;
  KUBECTL: string;
  ETCD: string;
  MOTO_PYTHON: string;
  POD_IDENTITY_WEBHOOK?: string;
}

/** The variables setup.sh wrote into .cache/testenv.env: paths of what it built, and versions. */
export function readTestenv(): Record<string, string | undefined> {
  const file = join(REPO, '.cache/testenv.env');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run env:setup\` first`);
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function readBinaries(opts: EnvOptions): Binaries {
  const vars = readTestenv() as Partial<Binaries>;
  const needed = [
    'KUBE_APISERVER',
    'KUBECTL',
    'ETCD',
    'MOTO_PYTHON',
    ...(opts.webhook ? (['POD_IDENTITY_WEBHOOK'] as const) : []),
  ] as const;
  for (const k of needed) {
    if (!vars[k] || !existsSync(vars[k])) throw new Error(`${k} (${vars[k] ?? 'unset'}) is missing: run \`npm run env:setup\``);
  }
  return vars as Binaries;
}

export function runKubectl(
  info: Pick<EnvInfo, 'kubectl' | 'adminKubeconfig'>,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      info.kubectl,
      ['--kubeconfig', info.adminKubeconfig, ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The launcher of moto's server with the IAM actions moto lacks (moto_server.py). */
const MOTO_LAUNCHER = join(REPO, 'test/env/moto_server.py');

/** moto on loopback `port`, AWS managed policies loaded; `env` adds variables (INITIAL_NO_AUTH_ACTION_COUNT). */
export function startMoto(python: string, port: number, logFile: string, env: NodeJS.ProcessEnv = {}): Started {
  return startProcess(python, [MOTO_LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    logFile,
    env: { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', ...env },
  });
}

/**
 * The EKS Pod Identity associations moto lacks, checked against botocore's EKS model; the
 * clusters they belong to are moto's (CreateCluster, DescribeCluster).
 */
export function podIdentityStore(motoUrl: string): PodIdentityStore {
  return new PodIdentityStore(loadModel(botocoreModelPath('eks')), {
    cluster: async (name) => {
      // moto routes by the signing service of the request's credential scope.
      const res = await fetch(`${motoUrl}/clusters/${encodeURIComponent(name)}`, {
        headers: { Authorization: `AWS4-HMAC-SHA256 Credential=testenv/20260101/${TEST_REGION}/eks/aws4_request` },
      });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`moto DescribeCluster ${name}: ${res.status}`);
      return ((await res.json()) as { cluster?: { arn?: string } }).cluster?.arn;
    },
  });
}

/**
 * The operator's cluster (TEST_CLUSTER) as an EKS cluster in moto, for objects that use Pod
 * Identity (their associations live in the proxy's store). Returns its ARN.
 */
export async function createEksCluster(endpoint: string, region = TEST_REGION): Promise<string> {
  const eks = new EKSClient({ region, endpoint, credentials: { accessKeyId: 'testenv', secretAccessKey: 'testenv' } });
  try {
    const out = await eks.send(
      new CreateClusterCommand({
        name: TEST_CLUSTER,
        roleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/eks-cluster`,
        resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
      }),
    );
    return out.cluster?.arn ?? '';
  } finally {
    eks.destroy();
  }
}

/** Creates the cluster's OIDC provider in the IAM endpoint (as eksctl utils associate-iam-oidc-provider does). */
export async function createOidcProvider(
  endpoint: string,
  issuer = TEST_ISSUER,
  region = TEST_REGION,
  clientIds: readonly string[] = ['sts.amazonaws.com'],
): Promise<void> {
  const iam = new IAMClient({ region, endpoint, credentials: { accessKeyId: 'testenv', secretAccessKey: 'testenv' } });
  await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer, ClientIDList: [...clientIds], ThumbprintList: ['0'.repeat(40)] }));
  iam.destroy();
}

export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** Writes (create/update/patch/delete) `username` made, as the apiserver's audit log has them. */
export function kubeWritesBy(auditLog: string, username: string): AuditEvent[] {
  return readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.user.username === username && ['create', 'update', 'patch', 'delete'].includes(e.verb));
}

/** Writes (create/update/patch/delete) the operator's user made, as the apiserver's audit log has them. */
export const operatorKubeWrites = (auditLog: string): AuditEvent[] => kubeWritesBy(auditLog, 'irsa-operator');

/**
 * A cluster administrator of its own (system:masters) for a peer controller the benchmark compares
 * with, so the audit log tells its writes apart.
 */
export const PEER_USER = { name: 'peer-controller', token: 'peer-token', uid: '4' } as const;

/** A kubeconfig for PEER_USER in the environment's directory; returns its path. */
export function peerKubeconfig(env: Pick<EnvInfo, 'dir' | 'apiserverUrl'>): string {
  const file = join(env.dir, 'peer.kubeconfig');
  writeFileSync(file, kubeconfig(env.apiserverUrl, join(env.dir, 'certs', 'apiserver.crt'), PEER_USER.name, PEER_USER.token));
  return file;
}

function getHttps(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function kubeconfig(server: string, ca: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server, 'certificate-authority': ca } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'local', context: { cluster: 'local', user } }],
    'current-context': 'local',
  });
}

/** A chain root -> intermediate -> server for 127.0.0.1 in `dir`: the server's certificate file holds the server and the intermediate, as public issuers serve them. */
function writeServingChain(dir: string): { certFile: string; keyFile: string; caFile: string } {
  mkdirSync(dir, { recursive: true });
  const chain = servingChain('127.0.0.1');
  const files = { certFile: join(dir, 'issuer.crt'), keyFile: join(dir, 'issuer.key'), caFile: join(dir, 'issuer-root-ca.crt') };
  writeFileSync(files.certFile, chain.leaf + chain.intermediate);
  writeFileSync(files.keyFile, chain.key);
  writeFileSync(files.caFile, chain.root);
  return files;
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

/**
 * Starts etcd, kube-apiserver, moto and the proxy, and the pod identity webhook when asked;
 * installs the CRD and the operator's RBAC.
 */
export async function startEnv(log: (line: string) => void = () => undefined, opts: EnvOptions = {}): Promise<RunningEnv> {
  const bin = readBinaries(opts);
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'irsa-testenv-'));
  const removeDir = removeOnExit(dir);
  const started: Started[] = [];
  let proxy: AwsProxy | undefined;
  const stop = async () => {
    await proxy?.stop();
    for (const s of started.reverse()) await s.stop();
    removeDir();
  };
  try {
    const [etcdPort, peerPort, apiPort, motoPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const t0 = Date.now();
    started.push(
      startProcess(
        bin.ETCD,
        [
          '--data-dir',
          join(dir, 'etcd'),
          '--listen-client-urls',
          `http://127.0.0.1:${etcdPort}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${etcdPort}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${peerPort}`,
          '--initial-cluster',
          `default=http://127.0.0.1:${peerPort}`,
          '--unsafe-no-fsync',
          '--log-level',
          'warn',
        ],
        { logFile: join(dir, 'etcd.log') },
      ),
    );
    started.push(startMoto(bin.MOTO_PYTHON, motoPort, join(dir, 'moto.log')));
    await waitFor('etcd /health', async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok);

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      join(dir, 'tokens.csv'),
      `admin-token,admin,1,"system:masters"\noperator-token,irsa-operator,2\n${WEBHOOK_USER.token},${WEBHOOK_USER.name},${WEBHOOK_USER.uid}\n` +
        `${PEER_USER.token},${PEER_USER.name},${PEER_USER.uid},"system:masters"\n`,
    );
    writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    const auditLog = join(dir, 'audit.log');
    const apiserverUrl = `https://127.0.0.1:${apiPort}`;
    const issuer = opts.apiserverIssuer ? apiserverUrl : TEST_ISSUER;
    const serving = opts.apiserverIssuer ? writeServingChain(join(dir, 'certs')) : undefined;
    started.push(
      startProcess(
        bin.KUBE_APISERVER,
        [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          `--secure-port=${apiPort}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--cert-dir=${join(dir, 'certs')}`,
          ...(serving ? [`--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`] : []),
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          '--authorization-mode=RBAC',
          `--service-account-issuer=${issuer}`,
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--disable-admission-plugins=ServiceAccount',
          `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
          `--audit-log-path=${auditLog}`,
          '--audit-log-mode=blocking',
          '--enable-priority-and-fairness=false',
          '--v=0',
        ],
        { logFile: join(dir, 'kube-apiserver.log') },
      ),
    );
    const caFile = serving?.caFile ?? join(dir, 'certs', 'apiserver.crt');
    await waitFor('the apiserver serving certificate', () => existsSync(caFile));
    const ca = readFileSync(caFile, 'utf8');
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await getHttps(`${apiserverUrl}/readyz`, ca, 'admin-token')) === 200,
      120_000,
      100,
    );
    log(`kube-apiserver ready in ${Date.now() - t0} ms`);

    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    const operatorKubeconfig = join(dir, 'operator.kubeconfig');
    writeFileSync(adminKubeconfig, kubeconfig(apiserverUrl, caFile, 'admin', 'admin-token'));
    writeFileSync(operatorKubeconfig, kubeconfig(apiserverUrl, caFile, 'irsa-operator', 'operator-token'));
    const info = { kubectl: bin.KUBECTL, adminKubeconfig };
    // The operator runs as user irsa-operator with exactly the RBAC config/rbac gives its ServiceAccount.
    const steps: string[][] = [
      ['create', 'namespace', 'irsa-system'],
      [
        'apply',
        '-f',
        join(REPO, 'crds'),
        '-f',
        join(REPO, 'config/rbac/role.yaml'),
        '-f',
        join(REPO, 'config/rbac/leader_election_role.yaml'),
      ],
      ['create', 'clusterrolebinding', 'irsa-operator-test-user', '--clusterrole=irsa-operator', '--user=irsa-operator'],
      [
        'create',
        'rolebinding',
        '-n',
        'irsa-system',
        'irsa-operator-test-user',
        '--role=irsa-operator-leader-election',
        '--user=irsa-operator',
      ],
      // As IAM reads an issuer: its discovery document and JWKS without credentials.
      ...(serving
        ? [
            [
              'create',
              'clusterrolebinding',
              'oidc-discovery-anonymous',
              '--clusterrole=system:service-account-issuer-discovery',
              '--group=system:unauthenticated',
            ],
          ]
        : []),
    ];
    for (const step of steps) {
      const r = await runKubectl(info, step);
      if (r.code !== 0) throw new Error(`kubectl ${step.join(' ')} failed: ${r.stderr}`);
    }
    const established = await runKubectl(info, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/iamserviceaccounts.irsa.dev']);
    if (established.code !== 0) throw new Error(`the CRD did not become Established: ${established.stderr}`);

    let webhookUrl: string | undefined;
    if (opts.webhook && bin.POD_IDENTITY_WEBHOOK) {
      const webhookKubeconfig = join(dir, 'webhook.kubeconfig');
      writeFileSync(webhookKubeconfig, kubeconfig(apiserverUrl, caFile, WEBHOOK_USER.name, WEBHOOK_USER.token));
      const webhook = await startWebhook({
        binary: bin.POD_IDENTITY_WEBHOOK,
        dir: join(dir, 'webhook'),
        kubeconfig: webhookKubeconfig,
        region: TEST_REGION,
        apply: async (manifest) => {
          const r = await runKubectl(info, ['apply', '-f', '-'], JSON.stringify(manifest));
          if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
        },
      });
      started.push(webhook);
      webhookUrl = webhook.url;
      log(`pod identity webhook ready at ${webhook.url} (log: ${webhook.log})`);
    }

    const motoUrl = `http://127.0.0.1:${motoPort}`;
    await waitFor('moto', async () => (await fetch(`${motoUrl}/moto-api/`)).ok, 60_000, 100);
    proxy = new AwsProxy(motoUrl, Math.random, podIdentityStore(motoUrl));
    await proxy.start();
    log(`environment ready in ${Date.now() - t0} ms (${dir})`);
    return {
      dir,
      apiserverUrl,
      adminKubeconfig,
      operatorKubeconfig,
      auditLog,
      motoUrl,
      awsEndpoint: proxy.url,
      kubectl: bin.KUBECTL,
      ...(webhookUrl === undefined ? {} : { webhookUrl }),
      issuer,
      ...(serving ? { issuerCaFile: serving.caFile } : {}),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
