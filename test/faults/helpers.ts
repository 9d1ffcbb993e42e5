// What the fault scenarios share: a fast admin client for IamServiceAccounts, the object shapes
// they create and update, "converged" (every object Ready=True at its generation, none being
// deleted) and the invariants, checked against moto directly and the cluster.
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import {
  GROUP,
  OWNER_ANNOTATION,
  PLURAL,
  SA_ANNOTATIONS,
  VERSION,
  type IamServiceAccount,
  type IamServiceAccountSpec,
} from '../../src/api/types.ts';
import type { OperatorConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/log.ts';
import { Operator, type OperatorHooks } from '../../src/operator.ts';
import { issuerHostPath, oidcProviderArn } from '../../src/policy/arn.ts';
import { ATTACH_POLICY_NAME, OWNER_TAGS } from '../../src/policy/desired.ts';
import { deriveRoleName } from '../../src/policy/naming.ts';
import { buildTrustPolicy } from '../../src/policy/trust.ts';
import { TEST_ACCOUNT, TEST_CLUSTER, TEST_ISSUER } from '../env/cluster.ts';
import { decodeDoc, env, iam, iamIn, resetAws, testConfig, waitFor } from '../e2e/helpers.ts';

export const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
/** The audience some updates switch to; the scenarios' OIDC provider lists it. */
/** The admin client's (client-node's) answer with this HTTP status. */
const isKubeStatus = (e: unknown, code: number): boolean => e instanceof ApiException && e.code === code;

const FAULTS_AUDIENCE = 'faults-audience';

/** A fresh IAM whose OIDC provider accepts the audiences the scenarios use. */
export async function resetFaultsAws(): Promise<void> {
  await resetAws(undefined, undefined, ['sts.amazonaws.com', FAULTS_AUDIENCE]);
}
export const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
const ISSUER_HOST = issuerHostPath(TEST_ISSUER);

/** An account the account scenario writes roles to besides the operator's own, and the role the operator assumes there. */
export const TARGET_ACCOUNT = '210987654321';
export const TARGET_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/irsa-operator-target`;

const accountClients = new Map<string, Promise<IAMClient>>();
/** IAM of an account as moto has it, read directly. */
function iamOf(account: string): Promise<IAMClient> {
  if (account === TEST_ACCOUNT) return Promise.resolve(iam());
  let client = accountClients.get(account);
  if (!client) accountClients.set(account, (client = iamIn(account)));
  return client;
}

/** The target account's OIDC provider for the cluster, accepting the scenarios' audiences. */
export async function createTargetProvider(): Promise<void> {
  await (
    await iamOf(TARGET_ACCOUNT)
  ).send(
    new CreateOpenIDConnectProviderCommand({
      Url: TEST_ISSUER,
      ClientIDList: ['sts.amazonaws.com', FAULTS_AUDIENCE],
      ThumbprintList: ['0'.repeat(40)],
    }),
  );
}

let adminKc: KubeConfig | undefined;
function admin(): { custom: CustomObjectsApi; core: CoreV1Api } {
  if (!adminKc) {
    adminKc = new KubeConfig();
    adminKc.loadFromFile(env().adminKubeconfig);
  }
  return { custom: adminKc.makeApiClient(CustomObjectsApi), core: adminKc.makeApiClient(CoreV1Api) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function randomInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

/** Four shapes: managed only; managed + inline; inline with a renamed ServiceAccount; two managed + another audience. */
export const VARIANTS = 4;
export function variantSpec(name: string, v: number): IamServiceAccountSpec {
  const inline = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::bucket-${name}/v${v}/*` }],
  };
  switch (((v % VARIANTS) + VARIANTS) % VARIANTS) {
    case 0:
      return { attachPolicyARNs: [S3_READ] };
    case 1:
      return { attachPolicyARNs: [SQS_READ], attachPolicy: inline };
    case 2:
      return { attachPolicy: inline, serviceAccount: { name: `${name}-sa` } };
    default:
      return { attachPolicyARNs: [S3_READ, SQS_READ], audience: FAULTS_AUDIENCE };
  }
}

export async function createObject(ns: string, name: string, spec: IamServiceAccountSpec): Promise<void> {
  await admin().custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: PLURAL,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'IamServiceAccount', metadata: { name, namespace: ns }, spec },
  });
}

/** Replaces the whole spec in one JSON patch (no resourceVersion: never conflicts with the operator). */
export async function replaceSpec(ns: string, name: string, spec: IamServiceAccountSpec): Promise<void> {
  await admin().custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name, body: [{ op: 'replace', path: '/spec', value: spec }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

export async function deleteObject(ns: string, name: string): Promise<void> {
  try {
    await admin().custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name });
  } catch (e) {
    if (!isKubeStatus(e, 404)) throw e;
  }
}

export async function getObject(ns: string, name: string): Promise<IamServiceAccount | undefined> {
  try {
    return (await admin().custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      name,
    })) as IamServiceAccount;
  } catch (e) {
    if (isKubeStatus(e, 404)) return undefined;
    throw e;
  }
}

export async function listObjects(namespaces: readonly string[]): Promise<IamServiceAccount[]> {
  const out: IamServiceAccount[] = [];
  for (const namespace of namespaces) {
    const list = (await admin().custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
    })) as KubernetesListObject<IamServiceAccount>;
    out.push(...list.items);
  }
  return out;
}

export async function listAllObjects(): Promise<IamServiceAccount[]> {
  const list = (await admin().custom.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: PLURAL,
  })) as KubernetesListObject<IamServiceAccount>;
  return list.items;
}

export function isReady(o: IamServiceAccount): boolean {
  const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
  return !o.metadata.deletionTimestamp && ready?.status === 'True' && ready.observedGeneration === o.metadata.generation;
}

/** Objects not yet converged: not Ready at their generation, or still being deleted. */
export async function pending(namespaces: readonly string[]): Promise<string[]> {
  return (await listObjects(namespaces)).filter((o) => !isReady(o)).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
}

export async function waitConverged(namespaces: readonly string[], timeoutMs: number): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      `every IamServiceAccount in ${namespaces.join(', ')} Ready at its generation`,
      async () => (last = await pending(namespaces)).length === 0,
      timeoutMs,
      100,
    );
  } catch (e) {
    const details: string[] = [];
    for (const key of last.slice(0, 5)) {
      const [ns = '', name = ''] = key.split('/');
      const o = await getObject(ns, name);
      details.push(
        `${key}: gen ${o?.metadata.generation ?? '?'} deleting=${o?.metadata.deletionTimestamp !== undefined} ${JSON.stringify(o?.status?.conditions?.find((c) => c.type === 'Ready'))}`,
      );
    }
    throw new Error(`${(e as Error).message}; ${last.length} pending: ${details.join('; ')}`);
  }
}

export interface Invariants {
  /** Roles tagged irsa.dev/managed-by=irsa-operator whose object does not exist. */
  orphanedRoles: string[];
  /** Objects whose ServiceAccount lacks eks.amazonaws.com/role-arn = status.roleARN. */
  lostAnnotations: string[];
  /** Objects with more than one role tagged as theirs. */
  duplicateRoles: string[];
  /** Everything else that differs from the spec: missing role, trust, policies, stray ServiceAccounts. */
  mismatches: string[];
}

async function allRoles(client: IAMClient): Promise<Role[]> {
  const roles: Role[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListRolesCommand({ Marker: marker, MaxItems: 1000 }));
    for (const r of page.Roles ?? []) {
      // ListRoles does not promise tags: GetRole has them, and the trust policy.
      const full = (await client.send(new GetRoleCommand({ RoleName: r.RoleName }))).Role;
      if (full) roles.push(full);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return roles;
}

const tagsOf = (r: Role): Record<string, string> => Object.fromEntries((r.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

/**
 * The invariants, read from moto directly (not through the fault-injecting proxy) and from the
 * apiserver: for every object in `namespaces`, exactly one role, in its account, with the exact
 * trust policy (that account's provider) and exactly the wanted managed and inline policies, and
 * its ServiceAccount annotated with the role ARN; across `accounts`, no role of this operator
 * without a live object.
 */
export async function checkInvariants(namespaces: readonly string[], accounts: readonly string[] = [TEST_ACCOUNT]): Promise<Invariants> {
  const inv: Invariants = { orphanedRoles: [], lostAnnotations: [], duplicateRoles: [], mismatches: [] };
  const roles: Role[] = [];
  for (const account of accounts) roles.push(...(await allRoles(await iamOf(account))));
  const live = new Set((await listAllObjects()).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
  const owned = new Map<string, Role[]>();
  for (const r of roles) {
    const tags = tagsOf(r);
    if (tags[OWNER_TAGS.managedBy] !== 'irsa-operator') continue;
    const key = `${tags[OWNER_TAGS.namespace] ?? '?'}/${tags[OWNER_TAGS.name] ?? '?'}`;
    if (tags[OWNER_TAGS.cluster] !== TEST_CLUSTER || !live.has(key)) inv.orphanedRoles.push(`${r.RoleName ?? '?'} (of ${key})`);
    owned.set(key, [...(owned.get(key) ?? []), r]);
  }
  const objects = await listObjects(namespaces);
  const wantedServiceAccounts = new Set<string>();
  for (const o of objects) {
    const { namespace: ns, name } = o.metadata;
    const key = `${ns}/${name}`;
    const spec = o.spec;
    const roleName = deriveRoleName('', TEST_CLUSTER, ns, name);
    const account = spec.account ?? TEST_ACCOUNT;
    const client = await iamOf(account);
    const arn = `arn:aws:iam::${account}:role/${roleName}`;
    const mine = owned.get(key) ?? [];
    if (mine.length > 1) inv.duplicateRoles.push(`${key}: ${mine.map((r) => r.RoleName ?? '?').join(', ')}`);
    if (o.status?.roleName !== roleName || o.status.roleARN !== arn)
      inv.mismatches.push(`${key}: status names role ${o.status?.roleARN ?? 'none'}, want ${arn}`);
    const role = mine.find((r) => r.Arn === arn);
    if (!role) {
      inv.mismatches.push(`${key}: no role ${roleName} tagged as its own`);
    } else {
      const saName = spec.serviceAccount?.name ?? name;
      const trust = buildTrustPolicy({
        oidcProviderArn: oidcProviderArn('aws', account, ISSUER_HOST),
        issuerHostPath: ISSUER_HOST,
        namespace: ns,
        serviceAccountName: saName,
        audience: spec.audience ?? 'sts.amazonaws.com',
      });
      try {
        assert.deepEqual(decodeDoc(role.AssumeRolePolicyDocument), trust);
      } catch {
        inv.mismatches.push(`${key}: trust policy ${JSON.stringify(decodeDoc(role.AssumeRolePolicyDocument))}`);
      }
      const attached = ((await client.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? [])
        .map((p) => p.PolicyArn ?? '')
        .sort();
      const wantAttached = [...(spec.attachPolicyARNs ?? [])].sort();
      if (JSON.stringify(attached) !== JSON.stringify(wantAttached))
        inv.mismatches.push(`${key}: managed policies ${JSON.stringify(attached)}, want ${JSON.stringify(wantAttached)}`);
      const inline = ((await client.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? []).sort();
      const wantInline = spec.attachPolicy ? [ATTACH_POLICY_NAME] : [];
      if (JSON.stringify(inline) !== JSON.stringify(wantInline)) {
        inv.mismatches.push(`${key}: inline policies ${JSON.stringify(inline)}, want ${JSON.stringify(wantInline)}`);
      } else if (spec.attachPolicy) {
        const doc = (await client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: ATTACH_POLICY_NAME }))).PolicyDocument;
        try {
          assert.deepEqual(decodeDoc(doc), spec.attachPolicy);
        } catch {
          inv.mismatches.push(`${key}: inline policy ${JSON.stringify(decodeDoc(doc))}`);
        }
      }
    }
    if (spec.roleOnly === true) continue;
    const saName = spec.serviceAccount?.name ?? name;
    wantedServiceAccounts.add(`${ns}/${saName}`);
    let annotation: string | undefined;
    try {
      annotation = (await admin().core.readNamespacedServiceAccount({ namespace: ns, name: saName })).metadata?.annotations?.[
        SA_ANNOTATIONS.roleArn
      ];
    } catch (e) {
      if (!isKubeStatus(e, 404)) throw e;
    }
    if (annotation === undefined || annotation !== o.status?.roleARN)
      inv.lostAnnotations.push(`${ns}/${saName}: role-arn ${annotation ?? 'missing'}, status ${o.status?.roleARN ?? 'none'}`);
  }
  // A ServiceAccount still naming an owner (and a role) that no longer uses it.
  for (const namespace of namespaces) {
    const sas = await admin().core.listNamespacedServiceAccount({ namespace });
    for (const sa of sas.items) {
      const key = `${namespace}/${sa.metadata?.name ?? '?'}`;
      if (sa.metadata?.annotations?.[OWNER_ANNOTATION] !== undefined && !wantedServiceAccounts.has(key))
        inv.mismatches.push(`${key}: stray ServiceAccount owned by ${sa.metadata.annotations[OWNER_ANNOTATION]}`);
    }
  }
  return inv;
}

export function invariantsHold(inv: Invariants): boolean {
  return inv.orphanedRoles.length + inv.lostAnnotations.length + inv.duplicateRoles.length + inv.mismatches.length === 0;
}

/** An in-process operator with its own kubeconfig (e.g. through the TCP proxy), IAM writes unthrottled. */
export async function startOperatorWith(
  kubeconfigFile: string,
  overrides: Partial<OperatorConfig>,
  hooks: OperatorHooks = {},
): Promise<Operator> {
  // As main.ts does: one connection pool, a deadline on every request.
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const config = testConfig({ iamWritesPerSecond: 0, ...overrides });
  // The faults make the operator log errors by design: silent unless IRSA_TEST_LOG asks for them.
  const level = process.env.IRSA_TEST_LOG;
  const op = new Operator(config, kc, makeLogger(level ?? config.logLevel, level === undefined), hooks);
  await op.start();
  return op;
}

/** A copy of the operator's kubeconfig whose server is `port` on loopback. */
export function operatorKubeconfigVia(port: number, rewrite: (json: string, port: number) => string): string {
  const file = join(env().dir, `operator-via-${port}.kubeconfig`);
  writeFileSync(file, rewrite(readFileSync(env().operatorKubeconfig, 'utf8'), port));
  return file;
}
