// irsa doctor (pod|sa|iamsa)/NAME: why a pod has (or would have) no AWS credentials. It walks the
// chain of docs/pod-identity-chain.md, link by link, and stops at the first broken one with what
// to do about it. Read-only: it reads the cluster and IAM, and asks the API server for a token of
// the ServiceAccount (a TokenRequest stores nothing) to judge the role's trust with real claims.
import { IAMClient } from '@aws-sdk/client-iam';
import type { V1Pod } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { GROUP, OWNER_ANNOTATION, PLURAL, SA_ANNOTATIONS, VERSION, type IamServiceAccount } from '../api/types.ts';
import { parseArn } from '../policy/arn.ts';
import { STS_AUDIENCE } from '../policy/audience.ts';
import { serviceAccountSubject } from '../policy/trust.ts';
import {
  checkObject,
  checkPods,
  checkPolicies,
  checkProvider,
  checkRole,
  checkServiceAccount,
  checkTrust,
  checkWebhook,
  LINK_TITLES,
  LINKS,
  type Check,
  type LinkId,
  type Walk,
} from './doctor-checks.ts';
import { connect, describeKubeError, kubeOptions, readOrUndefined, type Kube, type KubeOptions } from './kube.ts';
import { colourEnabled, EXIT, paint, parseFormat, toJson, UsageError } from './output.ts';

export interface DoctorReport {
  target: string;
  namespace: string;
  /** The first broken link (for a broken IamServiceAccount: the link its reason is about). */
  broken: LinkId | null;
  checks: Check[];
}

interface DoctorOptions extends KubeOptions {
  output: string;
  region?: string;
  awsEndpoint?: string;
  issuer?: string;
  tokenRequest: boolean;
}

const KINDS: Record<string, 'pod' | 'sa' | 'iamsa'> = {
  pod: 'pod',
  pods: 'pod',
  po: 'pod',
  sa: 'sa',
  serviceaccount: 'sa',
  serviceaccounts: 'sa',
  iamsa: 'iamsa',
  irsa: 'iamsa',
  iamserviceaccount: 'iamsa',
  iamserviceaccounts: 'iamsa',
};

export function parseTarget(arg: string): { kind: 'pod' | 'sa' | 'iamsa'; name: string } {
  const [kind = '', name = ''] = arg.split('/');
  const k = KINDS[kind.toLowerCase()];
  if (!k || name === '') throw new UsageError(`doctor takes pod/NAME, sa/NAME or iamsa/NAME, not ${arg}`);
  return { kind: k, name };
}

const DEFAULT_REGION: Record<string, string> = { aws: 'us-east-1', 'aws-cn': 'cn-north-1', 'aws-us-gov': 'us-gov-west-1' };

function iamFactory(sa: () => Walk['sa'], opts: DoctorOptions): () => IAMClient {
  let client: IAMClient | undefined;
  return () => {
    if (client) return client;
    const partition = parseArn(sa()?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn] ?? '')?.partition ?? 'aws';
    const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION[partition] ?? 'us-east-1';
    client = new IAMClient({ region, maxAttempts: 3, ...(opts.awsEndpoint ? { endpoint: opts.awsEndpoint } : {}) });
    return client;
  };
}

async function readObject(kube: Kube, namespace: string, name: string): Promise<IamServiceAccount | undefined> {
  return readOrUndefined(`IamServiceAccount ${namespace}/${name}`, async () => {
    // The custom objects API returns untyped JSON: an IamServiceAccount as the CRD stores it.
    return (await kube.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
    })) as IamServiceAccount;
  });
}

/** From the named target to the object, the ServiceAccount and the pods to look at. */
async function resolve(kube: Kube, target: { kind: 'pod' | 'sa' | 'iamsa'; name: string }, walk: Walk): Promise<void> {
  const ns = walk.namespace;
  if (target.kind === 'iamsa') {
    walk.obj = await readObject(kube, ns, target.name);
    if (!walk.obj) throw new UsageError(`no IamServiceAccount ${ns}/${target.name} (kubectl get iamsa -n ${ns})`);
    walk.saName = walk.obj.spec.serviceAccount?.name ?? walk.obj.metadata.name;
  } else if (target.kind === 'pod') {
    const pod = await readOrUndefined(`pod ${ns}/${target.name}`, () => kube.core.readNamespacedPod({ name: target.name, namespace: ns }));
    if (!pod) throw new UsageError(`no pod ${ns}/${target.name}`);
    walk.pods = [pod];
    walk.podTarget = true;
    walk.saName = pod.spec?.serviceAccountName ?? 'default';
  } else walk.saName = target.name;
  const saName = walk.saName;
  walk.sa = await readOrUndefined(`ServiceAccount ${ns}/${saName}`, () =>
    kube.core.readNamespacedServiceAccount({ name: saName, namespace: ns }),
  );
  const owner = walk.sa?.metadata?.annotations?.[OWNER_ANNOTATION];
  if (!walk.obj && owner !== undefined) walk.obj = await readObject(kube, ns, owner);
  if (!walk.podTarget) {
    const pods = await readOrUndefined(`pods of ${ns}/${saName}`, () =>
      kube.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.serviceAccountName=${saName}` }),
    );
    walk.pods = (pods?.items ?? []).filter(
      (p: V1Pod) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
    );
  }
}

/** The claims STS will see: from a real token of the ServiceAccount, else from what is known. */
async function learnClaims(kube: Kube, walk: Walk, opts: DoctorOptions): Promise<void> {
  const annotations = walk.sa?.metadata?.annotations ?? {};
  const aud = annotations[SA_ANNOTATIONS.audience] ?? STS_AUDIENCE;
  const sub = serviceAccountSubject(walk.namespace, walk.saName ?? '');
  if (opts.tokenRequest) {
    try {
      const tr = await kube.core.createNamespacedServiceAccountToken({
        name: walk.saName ?? '',
        namespace: walk.namespace,
        body: { spec: { audiences: [aud], expirationSeconds: 600 } },
      });
      const claims = JSON.parse(Buffer.from(tr.status?.token?.split('.')[1] ?? '', 'base64url').toString()) as {
        iss: string;
        sub: string;
        aud: string[] | string;
      };
      walk.claims = { iss: claims.iss, sub: claims.sub, aud: Array.isArray(claims.aud) ? (claims.aud[0] ?? aud) : claims.aud };
      walk.claimsFrom = 'claims of a token the API server issued for the ServiceAccount';
      return;
    } catch (e) {
      walk.claimsFrom = `TokenRequest refused (${describeKubeError(e)}): judged with the claims a token would carry`;
    }
  } else walk.claimsFrom = 'claims a token would carry (--no-token-request)';
  const providerArn = walk.obj?.status?.oidcProviderARN;
  const issuer =
    opts.issuer ?? (providerArn ? `https://${parseArn(providerArn)?.resource.replace(/^oidc-provider\//, '') ?? ''}` : undefined);
  if (issuer !== undefined) walk.claims = { iss: issuer, sub, aud };
}

type Step = (w: Walk) => Check | Promise<Check>;

export async function runDoctor(arg: string, opts: DoctorOptions): Promise<DoctorReport> {
  const target = parseTarget(arg);
  const kube = connect(opts);
  const walk: Walk = {
    kube,
    iam: iamFactory(() => walk.sa, opts),
    namespace: kube.namespace,
    pods: [],
    podTarget: false,
    tokenRequest: opts.tokenRequest,
  };
  await resolve(kube, target, walk);
  const steps: [LinkId, Step][] = [
    ['object', checkObject],
    ['serviceaccount', checkServiceAccount],
    ['webhook', checkWebhook],
    ['pod', checkPods],
    [
      'oidc-provider',
      async (w) => {
        await learnClaims(kube, w, opts);
        return checkProvider(w);
      },
    ],
    ['role', checkRole],
    ['trust', checkTrust],
    ['policies', checkPolicies],
  ];
  const checks: Check[] = [];
  let broken: LinkId | null = null;
  for (const [link, step] of steps) {
    if (broken) {
      checks.push({ link, status: 'skipped', detail: 'not checked: a link before it is broken' });
      continue;
    }
    const c = await step(walk);
    checks.push(c);
    if (c.status === 'broken') broken = c.blames ?? c.link;
  }
  return { target: `${target.kind}/${target.name}`, namespace: kube.namespace, broken, checks };
}

const MARKS: Record<Check['status'], string> = { ok: '✓', broken: '✗', warning: '!', skipped: '·', unknown: '?' };

export function formatReport(r: DoctorReport, colour: boolean): string {
  const p = paint(colour);
  const width = Math.max(...LINKS.map((l) => LINK_TITLES[l].length));
  const colourOf = { ok: p.green, broken: p.red, warning: p.yellow, skipped: p.dim, unknown: p.yellow };
  const lines = [p.bold(`irsa doctor ${r.target} -n ${r.namespace}`)];
  for (const c of r.checks) {
    lines.push(
      `${colourOf[c.status](MARKS[c.status])} ${LINK_TITLES[c.link].padEnd(width)}  ${c.status === 'skipped' ? p.dim(c.detail) : c.detail}`,
    );
    if (c.fix && c.status !== 'ok') lines.push(`  ${' '.repeat(width)}  ${p.bold('fix:')} ${c.fix}`);
  }
  const unknown = r.checks.filter((c) => c.status === 'unknown').length;
  if (r.broken) lines.push(p.red(`broken link: ${LINK_TITLES[r.broken]}`));
  else lines.push(unknown > 0 ? p.yellow(`no broken link found; ${unknown} could not be checked`) : p.green('every link holds'));
  return `${lines.join('\n')}\n`;
}

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .argument('<target>', 'pod/NAME, sa/NAME or iamsa/NAME')
    .description(
      "walk a pod's AWS credentials chain (IamServiceAccount, ServiceAccount, webhook, pod, OIDC provider, role, trust, policies) and stop at the first broken link",
    )
    .option('-n, --namespace <ns>', 'namespace (default: the context namespace, else default)')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--region <region>', 'AWS region for IAM (default: AWS_REGION, else the partition of the role)')
    .option('--aws-endpoint <url>', 'IAM endpoint override (local IAM endpoints)')
    .option('--issuer <url>', "the cluster's OIDC issuer, when no token can be requested")
    .option(
      '--no-token-request',
      'do not ask the API server for a token of the ServiceAccount; judge the trust with the claims one would carry',
    );
  kubeOptions(cmd)
    .addHelpText(
      'after',
      `
Read-only. AWS credentials come from the usual chain (AWS_PROFILE, environment, SSO, instance
role); IAM reads: GetOpenIDConnectProvider, GetRole, ListAttachedRolePolicies, ListRolePolicies.
Kubernetes reads: the object, the ServiceAccount, its pods, MutatingWebhookConfigurations, and a
TokenRequest for the ServiceAccount (create serviceaccounts/token; nothing is stored).

Exit codes: 0 every link holds; 1 a link is broken; 2 usage (no such pod or object);
3 the cluster or AWS could not be asked.

Examples:
  $ irsa doctor pod/web-7d9f8-abcde -n team-a
  $ kubectl irsa doctor iamsa/s3-reader -n team-a -o json | jq .broken
  $ irsa doctor sa/payments -n payments --no-token-request --issuer https://oidc.eks.eu-west-1.amazonaws.com/id/ABC`,
    )
    .action(async (arg: string, _o: unknown, command: Command) => {
      const opts = command.opts<DoctorOptions>();
      const format = parseFormat(opts.output, ['text', 'json']);
      const report = await runDoctor(arg, opts);
      const colour = colourEnabled(process.stdout, process.env, command.optsWithGlobals<{ color: boolean }>().color);
      process.stdout.write(format === 'json' ? toJson(report) : formatReport(report, colour));
      const unknown = report.checks.some((c) => c.status === 'unknown');
      process.exitCode = report.broken ? EXIT.findings : unknown ? EXIT.unreachable : EXIT.ok;
    });
}
