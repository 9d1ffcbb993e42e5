// The real amazon-eks-pod-identity-webhook (built by setup.sh), run out of cluster on loopback as
// the mutating admission webhook for pods: a pod of a ServiceAccount annotated with
// eks.amazonaws.com/role-arn gets AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and the projected
// token, exactly as on EKS. It runs as user pod-identity-webhook with upstream's ClusterRole
// (serviceaccounts get/list/watch).
import { request } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { servingCertificate } from './certs.ts';
import { freePort, startProcess, waitFor, type Started } from './processes.ts';

/** The user the webhook authenticates as (a static token of the apiserver's token file). */
export const WEBHOOK_USER = { name: 'pod-identity-webhook', token: 'webhook-token', uid: '3' } as const;
/** Name of its MutatingWebhookConfiguration. */
export const WEBHOOK_CONFIGURATION = 'pod-identity-webhook';

export interface WebhookOptions {
  binary: string;
  /** A directory of its own (certificates, log). */
  dir: string;
  /** Kubeconfig of WEBHOOK_USER. */
  kubeconfig: string;
  region: string;
  /** Applies a manifest as the admin (kubectl apply -f -). */
  apply: (manifest: object) => Promise<void>;
}

export interface RunningWebhook extends Started {
  url: string;
  log: string;
}

function healthz(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/healthz`, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', reject);
    req.end();
  });
}

function rbac(): object[] {
  const name = WEBHOOK_USER.name;
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'watch', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }],
    },
  ];
}

/** Pods CREATE, everywhere; a webhook that does not answer fails the create (as EKS's). */
function configuration(url: string, ca: string): object {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: WEBHOOK_CONFIGURATION },
    webhooks: [
      {
        name: 'iam-for-pods.amazonaws.com',
        clientConfig: { url: `${url}/mutate`, caBundle: Buffer.from(ca).toString('base64') },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        sideEffects: 'None',
        admissionReviewVersions: ['v1beta1'],
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
      },
    ],
  };
}

/** Starts the webhook with a fresh serving certificate for 127.0.0.1 and registers it for pods. */
export async function startWebhook(opts: WebhookOptions): Promise<RunningWebhook> {
  mkdirSync(opts.dir, { recursive: true });
  const { ca, cert, key } = servingCertificate('127.0.0.1');
  writeFileSync(join(opts.dir, 'tls.crt'), cert);
  writeFileSync(join(opts.dir, 'tls.key'), key, { mode: 0o600 });
  const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
  const log = join(opts.dir, 'webhook.log');
  // Its RBAC first: an informer refused at start backs off for seconds before it lists again.
  for (const manifest of rbac()) await opts.apply(manifest);
  // It listens on every interface (":port"); upstream has no flag for the address.
  const started = startProcess(
    opts.binary,
    [
      '--in-cluster=false',
      `--kubeconfig=${opts.kubeconfig}`,
      `--tls-cert=${join(opts.dir, 'tls.crt')}`,
      `--tls-key=${join(opts.dir, 'tls.key')}`,
      `--port=${port}`,
      `--metrics-port=${metricsPort}`,
      `--aws-default-region=${opts.region}`,
      '--logtostderr',
    ],
    { logFile: log },
  );
  const exited = new Promise<never>((_, reject) => {
    started.child.once('exit', (code, signal) => reject(new Error(`the pod identity webhook exited (${code ?? signal}); see ${log}`)));
  });
  exited.catch(() => undefined); // stop() ends it later on purpose
  const url = `https://127.0.0.1:${port}`;
  try {
    await Promise.race([exited, waitFor(`the pod identity webhook at ${url}/healthz (log: ${log})`, () => healthz(url, ca), 30_000, 50)]);
    await opts.apply(configuration(url, ca));
  } catch (e) {
    await started.stop();
    throw e;
  }
  return { ...started, url, log };
}
