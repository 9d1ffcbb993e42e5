// The links doctor checks, one function each, in the order a pod's credentials depend on them
// (docs/pod-identity-chain.md). Each reads, never writes (a TokenRequest stores nothing), and
// judges with the operator's own pure functions: podInjection and expectedInjection (what the
// webhook injects), audienceNotAllowed (the provider's client IDs), judgeTrust (IAM's rules).
import {
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam';
import type { V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import { OWNER_ANNOTATION, SA_ANNOTATIONS, type IamServiceAccount } from '../api/types.ts';
import { awsErrorCode, isNotFound } from '../aws/errors.ts';
import { podInjection } from '../kube/pods.ts';
import { issuerHostPath, oidcProviderArn, parseArn, roleNameFromArn } from '../policy/arn.ts';
import { audienceNotAllowed, STS_AUDIENCE } from '../policy/audience.ts';
import { parsePolicyDocumentOrEmpty } from '../policy/document.ts';
import { expectedInjection, injectionDiffers } from '../policy/pods.ts';
import { judgeTrust } from '../policy/trust-check.ts';
import type { Kube } from './kube.ts';

export const LINKS = ['object', 'serviceaccount', 'webhook', 'pod', 'oidc-provider', 'role', 'trust', 'policies'] as const;
export type LinkId = (typeof LINKS)[number];

export const LINK_TITLES: Record<LinkId, string> = {
  object: 'IamServiceAccount',
  serviceaccount: 'ServiceAccount',
  webhook: 'pod identity webhook',
  pod: 'pod',
  'oidc-provider': 'OIDC provider',
  role: 'IAM role',
  trust: 'trust policy',
  policies: 'role policies',
};

export interface Check {
  link: LinkId;
  /** ok; broken (stops the walk); warning (holds, with a remark); skipped (nothing to check); unknown (could not be read). */
  status: 'ok' | 'broken' | 'warning' | 'skipped' | 'unknown';
  detail: string;
  fix?: string;
  /** For a broken object: the link its condition reason is about (AudienceNotAllowedByProvider: oidc-provider). */
  blames?: LinkId;
}

/** What the walk has learnt so far. */
export interface Walk {
  kube: Kube;
  iam: () => IAMClient;
  namespace: string;
  obj?: IamServiceAccount | undefined;
  saName?: string | undefined;
  sa?: V1ServiceAccount | undefined;
  pods: V1Pod[];
  /** Whether the walk started at a pod (its injection must hold) or at the ServiceAccount's pods. */
  podTarget: boolean;
  claims?: { iss: string; sub: string; aud: string } | undefined;
  /** Where the claims came from: a TokenRequest, or what the object and flags say. */
  claimsFrom?: string;
  issuer?: string | undefined;
  role?: Role | undefined;
  tokenRequest: boolean;
}

const check = (link: LinkId, status: Check['status'], detail: string, fix?: string): Check =>
  fix === undefined ? { link, status, detail } : { link, status, detail, fix };

/** The link a condition reason of the operator is about. */
export function linkOfReason(reason: string): LinkId {
  if (reason === 'OIDCProviderNotFound' || reason === 'AudienceNotAllowedByProvider') return 'oidc-provider';
  if (reason === 'TrustPolicyMismatch') return 'trust';
  if (reason === 'PolicyNotFound' || reason === 'PolicyGrantsDeniedAction') return 'policies';
  if (reason.startsWith('Role') || reason.startsWith('Aws')) return 'role';
  if (reason.startsWith('ServiceAccount') || reason === 'WaitingForRole') return 'serviceaccount';
  return 'object';
}

export function checkObject(w: Walk): Check {
  const obj = w.obj;
  if (!obj) {
    return check(
      'object',
      'skipped',
      `no IamServiceAccount owns ServiceAccount ${w.namespace}/${w.saName ?? '?'} (no ${OWNER_ANNOTATION} annotation): checking it as it is`,
      `irsa import cluster makes an IamServiceAccount that takes it over`,
    );
  }
  const id = `${obj.metadata.namespace}/${obj.metadata.name}`;
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) {
    return check(
      'object',
      'broken',
      `${id} has no Ready condition: the operator has not reconciled it`,
      'is the operator running? kubectl get pods -n irsa-system',
    );
  }
  const stale = ready.observedGeneration !== undefined && ready.observedGeneration !== obj.metadata.generation;
  if (ready.status !== 'True') {
    const c = check(
      'object',
      'broken',
      `${id}: Ready=${ready.status} ${ready.reason}: ${ready.message}`,
      `docs/troubleshooting.md, ${ready.reason}`,
    );
    return { ...c, blames: linkOfReason(ready.reason) };
  }
  if (stale)
    return check(
      'object',
      'warning',
      `${id}: Ready=True for generation ${ready.observedGeneration ?? '?'}, not yet for ${obj.metadata.generation ?? '?'}`,
    );
  const stalePods = obj.status?.podsNeedingRestart;
  if (stalePods && stalePods.count > 0) {
    return check(
      'object',
      'warning',
      `${id}: Ready=True, and ${stalePods.count} pods started before the role annotations (${stalePods.pods.join(', ')})`,
    );
  }
  return check('object', 'ok', `${id}: Ready=True (${ready.reason})`);
}

export function checkServiceAccount(w: Walk): Check {
  const name = `${w.namespace}/${w.saName ?? '?'}`;
  if (!w.sa) {
    return check(
      'serviceaccount',
      'broken',
      `ServiceAccount ${name} does not exist`,
      w.obj ? 'the operator creates it unless serviceAccount.create is false: create it' : 'create it, or use the one the pod names',
    );
  }
  const annotations = w.sa.metadata?.annotations ?? {};
  const arn = annotations[SA_ANNOTATIONS.roleArn];
  if (arn === undefined) {
    const fix =
      w.obj?.spec.roleOnly === true
        ? 'roleOnly: whoever makes the ServiceAccount must annotate it with the role ARN'
        : `kubectl annotate serviceaccount -n ${w.namespace} ${w.saName ?? ''} ${SA_ANNOTATIONS.roleArn}=<role ARN>`;
    return check('serviceaccount', 'broken', `ServiceAccount ${name} has no ${SA_ANNOTATIONS.roleArn} annotation`, fix);
  }
  const want = w.obj?.status?.roleARN;
  if (want !== undefined && w.obj?.spec.roleOnly !== true && want !== arn) {
    return check(
      'serviceaccount',
      'broken',
      `ServiceAccount ${name} names ${arn}, the IamServiceAccount's role is ${want}`,
      'someone else changed the annotation: the operator puts it back at its next pass; find who writes it (kubectl get sa -o yaml --show-managed-fields)',
    );
  }
  const audience = annotations[SA_ANNOTATIONS.audience] ?? `${STS_AUDIENCE} (the webhook's default)`;
  return check('serviceaccount', 'ok', `${name}: role ${arn}, audience ${audience}`);
}

/** The webhook registered for pods: its MutatingWebhookConfiguration (EKS's is pod-identity-webhook). */
export async function checkWebhook(w: Walk): Promise<Check> {
  let configs;
  try {
    configs = (await w.kube.admission.listMutatingWebhookConfiguration()).items;
  } catch (e) {
    return check('webhook', 'unknown', `cannot list MutatingWebhookConfigurations: ${e instanceof Error ? e.message : String(e)}`);
  }
  const isIdentity = (name: string | undefined) => /pod-identity-webhook|iam-for-pods/i.test(name ?? '');
  const found = configs.find(
    (c) => isIdentity(c.metadata?.name) || (c.webhooks ?? []).some((h) => isIdentity(h.name) || isIdentity(h.clientConfig.service?.name)),
  );
  if (!found) {
    return check(
      'webhook',
      'broken',
      'no pod identity webhook is registered (no MutatingWebhookConfiguration for amazon-eks-pod-identity-webhook): pods get no AWS_ROLE_ARN',
      'EKS runs it for every cluster; on a self-managed cluster install github.com/aws/amazon-eks-pod-identity-webhook',
    );
  }
  const hook = (found.webhooks ?? []).find((h) => (h.rules ?? []).some((r) => r.resources?.includes('pods')));
  return check(
    'webhook',
    'ok',
    `MutatingWebhookConfiguration ${found.metadata?.name ?? '?'} (${hook?.name ?? 'webhook'}, failurePolicy ${hook?.failurePolicy ?? 'Fail'})`,
  );
}

/** When the role annotation was last written: the managedFields entry that owns it. */
export function roleAnnotationTime(sa: V1ServiceAccount | undefined): Date | undefined {
  const key = `f:${SA_ANNOTATIONS.roleArn}`;
  const times = (sa?.metadata?.managedFields ?? [])
    .filter((m) => {
      const meta = (m.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined)?.['f:metadata'];
      return meta?.['f:annotations']?.[key] !== undefined;
    })
    .map((m) => (m.time === undefined ? undefined : new Date(m.time)))
    .filter((d): d is Date => d !== undefined);
  return times.length === 0 ? undefined : new Date(Math.max(...times.map((d) => d.getTime())));
}

/** The pods (the one named, or every pod of the ServiceAccount) carry what the webhook injects now. */
export async function checkPods(w: Walk): Promise<Check> {
  const expected = expectedInjection(w.sa?.metadata?.annotations ?? {});
  const annotated = roleAnnotationTime(w.sa);
  const stale = w.pods.filter((p) => {
    const { roleArn, audience, expirationSeconds, regional } = podInjection(p);
    return injectionDiffers({ roleArn, audience, expirationSeconds, regional }, expected);
  });
  if (w.pods.length === 0) return check('pod', 'ok', `no pods of ServiceAccount ${w.saName ?? '?'} yet: new pods get the role`);
  if (stale.length === 0) {
    const what = w.podTarget ? `pod ${w.pods[0]?.metadata?.name ?? '?'}` : `${w.pods.length} pods`;
    return check('pod', 'ok', `${what}: AWS_ROLE_ARN=${expected.roleArn ?? '?'}, token audience ${expected.audience ?? STS_AUDIENCE}`);
  }
  const first = stale[0];
  const created = first?.metadata?.creationTimestamp ? new Date(first.metadata.creationTimestamp) : undefined;
  // Timestamps have one-second resolution: a pod of the same second as the annotation counts as
  // before it (the webhook reads the annotation from a cache that lags behind).
  const before = created !== undefined && annotated !== undefined && created.getTime() <= annotated.getTime();
  const names = stale
    .map((p) => p.metadata?.name ?? '?')
    .slice(0, 5)
    .join(', ');
  const count = w.podTarget ? `pod ${names}` : `${stale.length} of ${w.pods.length} pods (${names})`;
  const has = podInjection(first ?? {}).roleArn;
  const carries = has === undefined ? 'no AWS_ROLE_ARN' : `AWS_ROLE_ARN=${has}`;
  if (before) {
    return check(
      'pod',
      'broken',
      `${count}: ${carries}; started ${created.toISOString()}, before the role annotation (written ${annotated.toISOString()}): the webhook injects only when a pod is created`,
      await restartFix(w, stale),
    );
  }
  return check(
    'pod',
    'broken',
    `${count}: ${carries}, not what the ServiceAccount's annotations give (${expected.roleArn ?? '?'})${created ? `; created ${created.toISOString()}` : ''}, and not before the annotation: the webhook did not mutate it`,
    `recreate it (the webhook may not have seen the annotation yet), and look at the webhook's log; ${await restartFix(w, stale)}`,
  );
}

/** How to restart the stale pods: through their Deployment (as kubectl rollout restart), else delete them. */
async function restartFix(w: Walk, stale: V1Pod[]): Promise<string> {
  const fixes = new Set<string>();
  for (const p of stale.slice(0, 5)) {
    const owner = p.metadata?.ownerReferences?.find((o) => o.controller === true);
    if (owner?.kind === 'ReplicaSet') {
      const rs = await w.kube.apps.readNamespacedReplicaSet({ name: owner.name, namespace: w.namespace }).catch(() => undefined);
      const deploy = rs?.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'Deployment');
      fixes.add(
        deploy
          ? `kubectl rollout restart -n ${w.namespace} deployment/${deploy.name}`
          : `kubectl delete pod -n ${w.namespace} ${p.metadata?.name ?? ''}`,
      );
    } else if (owner && ['StatefulSet', 'DaemonSet'].includes(owner.kind)) {
      fixes.add(`kubectl rollout restart -n ${w.namespace} ${owner.kind.toLowerCase()}/${owner.name}`);
    } else fixes.add(`kubectl delete pod -n ${w.namespace} ${p.metadata?.name ?? ''} (and create it again)`);
  }
  return `restart: ${[...fixes].join('; ')}`;
}

/** Account and partition of the role the ServiceAccount names. */
function roleParts(w: Walk): { partition: string; account: string; arn: string } | undefined {
  const arn = w.sa?.metadata?.annotations?.[SA_ANNOTATIONS.roleArn];
  const parsed = arn === undefined ? undefined : parseArn(arn);
  return arn && parsed ? { partition: parsed.partition, account: parsed.account, arn } : undefined;
}

const awsProblem = (link: LinkId, what: string, e: unknown) =>
  check(link, 'unknown', `cannot read ${what}: ${awsErrorCode(e) ?? ''} ${e instanceof Error ? e.message : String(e)}`.trim());

export async function checkProvider(w: Walk): Promise<Check> {
  const parts = roleParts(w);
  if (!parts || !w.claims)
    return check('oidc-provider', 'unknown', `the cluster's issuer is unknown (${w.claimsFrom ?? 'no token'}): give --issuer`);
  const hostPath = issuerHostPath(w.claims.iss);
  const arn = oidcProviderArn(parts.partition as 'aws', parts.account, hostPath);
  let clientIds: string[];
  try {
    clientIds = (await w.iam().send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))).ClientIDList ?? [];
  } catch (e) {
    if (!isNotFound(e)) return awsProblem('oidc-provider', arn, e);
    return check(
      'oidc-provider',
      'broken',
      `IAM has no OIDC provider ${arn} for the cluster's issuer ${w.claims.iss} in the role's account`,
      'eksctl utils associate-iam-oidc-provider --cluster <name> --approve, or aws iam create-open-id-connect-provider',
    );
  }
  const refused = audienceNotAllowed(w.claims.aud, arn, clientIds);
  if (refused)
    return check(
      'oidc-provider',
      'broken',
      refused,
      `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id ${w.claims.aud}`,
    );
  return check('oidc-provider', 'ok', `${arn}: client IDs ${clientIds.join(', ')} include ${w.claims.aud}`);
}

export async function checkRole(w: Walk): Promise<Check> {
  const parts = roleParts(w);
  const name = parts ? roleNameFromArn(parts.arn) : undefined;
  if (!parts || name === undefined)
    return check(
      'role',
      'broken',
      `the annotation names no role ARN (${parts?.arn ?? 'none'})`,
      'annotate the ServiceAccount with arn:<partition>:iam::<account>:role/<name>',
    );
  try {
    w.role = (await w.iam().send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (e) {
    if (!isNotFound(e)) return awsProblem('role', parts.arn, e);
    const fix =
      w.obj && w.obj.spec.attachRoleARN === undefined
        ? 'the operator creates it again at its next drift check (driftPeriodSeconds, 10 minutes by default) or when it restarts'
        : 'create the role, or annotate the ServiceAccount with one that exists';
    return check('role', 'broken', `IAM has no role ${name} (${parts.arn})`, fix);
  }
  if (w.role?.Arn !== parts.arn) {
    return check(
      'role',
      'broken',
      `the annotation names ${parts.arn}, IAM has the role as ${w.role?.Arn ?? '?'} (another path)`,
      'annotate the ServiceAccount with the role ARN IAM reports',
    );
  }
  return check('role', 'ok', `${parts.arn} exists (max session ${w.role.MaxSessionDuration ?? 3600} s)`);
}

export function checkTrust(w: Walk): Check {
  const parts = roleParts(w);
  if (!w.role || !parts || !w.claims) return check('trust', 'unknown', 'no token claims to judge the trust with');
  const [, namespace = '', serviceAccountName = ''] = /^system:serviceaccount:([^:]+):(.+)$/.exec(w.claims.sub) ?? [];
  const hostPath = issuerHostPath(w.claims.iss);
  const subject = {
    oidcProviderArn: oidcProviderArn(parts.partition as 'aws', parts.account, hostPath),
    issuerHostPath: hostPath,
    namespace,
    serviceAccountName,
    audience: w.claims.aud,
  };
  const verdict = judgeTrust(parsePolicyDocumentOrEmpty(decodeURIComponent(w.role.AssumeRolePolicyDocument ?? '')), parts.arn, subject);
  const from = w.claimsFrom ? ` (${w.claimsFrom})` : '';
  if (verdict.admitted) return check('trust', 'ok', `${verdict.message}${from}`);
  return check(
    'trust',
    'broken',
    `${verdict.message}${from}`,
    w.obj?.spec.attachRoleARN === undefined && w.obj
      ? 'the operator writes this trust: see the IamServiceAccount'
      : 'add the statement above to the role trust policy (aws iam update-assume-role-policy), or use a role that trusts this ServiceAccount',
  );
}

export async function checkPolicies(w: Walk): Promise<Check> {
  const name = w.role?.RoleName;
  if (!name) return check('policies', 'unknown', 'no role');
  try {
    const attached = (await w.iam().send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
    const inline = (await w.iam().send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
    const list = [...attached.map((p) => p.PolicyArn ?? '?'), ...inline.map((p) => `${p} (inline)`)];
    if (list.length === 0)
      return check(
        'policies',
        'warning',
        `${name} has no policies: it may assume the role and do nothing`,
        'attach the policies the workload needs',
      );
    return check('policies', 'ok', list.join(', '));
  } catch (e) {
    return awsProblem('policies', `the policies of ${name}`, e);
  }
}
