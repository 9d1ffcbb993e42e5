// irsa import kiam: workloads that get their role from kiam (pod annotation iam.amazonaws.com/role,
// allowed by the namespace's iam.amazonaws.com/permitted regex) moved to IRSA. Each (namespace,
// role) becomes an IamServiceAccount with attachRoleARN, the role as it is; the workloads switch to
// its ServiceAccount; each role's trust policy gains a statement for those ServiceAccounts
// (kiam's roles trust the kiam server's role, not the cluster's OIDC provider). Pure.
import { API_VERSION, KIND } from '../api/types.ts';
import { oidcProviderArn, parseArn, type Partition } from '../policy/arn.ts';
import { buildTrustPolicy, serviceAccountSubject } from '../policy/trust.ts';
import { isRecord } from './files.ts';
import type { ImportResult, TrustNeeded } from './import-result.ts';

export const KIAM_ROLE = 'iam.amazonaws.com/role';
export const KIAM_PERMITTED = 'iam.amazonaws.com/permitted';

export interface KiamNamespace {
  name: string;
  permitted?: string | undefined;
}

export interface KiamWorkload {
  kind: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  role: string;
}

export interface KiamOptions {
  /** kiam's --role-base-arn: role names in annotations are relative to it. */
  roleBaseArn?: string | undefined;
  account?: string | undefined;
  partition: Partition;
  issuerHostPath: string;
  audience: string;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

/** The pod template of a workload (the pod itself for a Pod). */
function podTemplate(obj: Record<string, unknown>): Record<string, unknown> | undefined {
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (obj.kind === 'Pod') return obj;
  if (obj.kind === 'CronJob') {
    const job = isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec) ? spec.jobTemplate.spec : {};
    return isRecord(job.template) ? job.template : undefined;
  }
  return isRecord(spec.template) ? spec.template : undefined;
}

/** A workload with a kiam role annotation; objects a controller owns are left to their controller. */
export function kiamWorkload(obj: unknown): KiamWorkload | undefined {
  if (!isRecord(obj) || typeof obj.kind !== 'string' || !WORKLOAD_KINDS.has(obj.kind) || !isRecord(obj.metadata)) return undefined;
  const owners = Array.isArray(obj.metadata.ownerReferences) ? obj.metadata.ownerReferences : [];
  if (owners.some((o) => isRecord(o) && o.controller === true)) return undefined;
  const template = podTemplate(obj);
  const meta = template && isRecord(template.metadata) ? template.metadata : {};
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const role = annotations[KIAM_ROLE];
  if (typeof role !== 'string' || role === '') return undefined;
  const podSpec = template && isRecord(template.spec) ? template.spec : {};
  const sa = podSpec.serviceAccountName ?? podSpec.serviceAccount;
  return {
    kind: obj.kind,
    namespace: typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : 'default',
    name: String(obj.metadata.name),
    serviceAccount: typeof sa === 'string' && sa !== '' ? sa : 'default',
    role,
  };
}

export function kiamNamespace(obj: unknown): KiamNamespace | undefined {
  if (!isRecord(obj) || obj.kind !== 'Namespace' || !isRecord(obj.metadata)) return undefined;
  const annotations = isRecord(obj.metadata.annotations) ? obj.metadata.annotations : {};
  const permitted = annotations[KIAM_PERMITTED];
  return { name: String(obj.metadata.name), permitted: typeof permitted === 'string' ? permitted : undefined };
}

/** The role ARN of an annotation: an ARN as it is, a name below kiam's base ARN or the account's roles. */
export function roleArnOf(role: string, o: KiamOptions): string | undefined {
  if (role.startsWith('arn:')) return role;
  const name = role.replace(/^\/+/, '');
  if (o.roleBaseArn) return `${o.roleBaseArn.replace(/\/*$/, '/')}${name}`;
  return o.account ? `arn:${o.partition}:iam::${o.account}:role/${name}` : undefined;
}

/** A DNS-1123 ServiceAccount name from a role name: `Payments_Reader` -> `payments-reader`. */
export function serviceAccountNameFor(roleArn: string): string {
  const last = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const name = last
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63)
    .replace(/-$/, '');
  return name === '' ? 'irsa' : name;
}

/** kiam's check: the namespace's regex (Go's MatchString, unanchored) against the annotation or the ARN. */
function permits(ns: KiamNamespace | undefined, role: string, arn: string): string | undefined {
  if (ns?.permitted === undefined) return `namespace ${ns?.name ?? '?'} has no ${KIAM_PERMITTED} annotation: kiam gives its pods no role`;
  let re: RegExp;
  try {
    re = new RegExp(ns.permitted);
  } catch {
    return `the ${KIAM_PERMITTED} regex ${JSON.stringify(ns.permitted)} of namespace ${ns.name} does not compile`;
  }
  return re.test(role) || re.test(arn)
    ? undefined
    : `namespace ${ns.name} permits ${JSON.stringify(ns.permitted)}, not ${role}: kiam refuses it`;
}

const switchCommand = (w: KiamWorkload, to: string): string => {
  const path =
    w.kind === 'CronJob'
      ? { jobTemplate: { spec: { template: { spec: { serviceAccountName: to } } } } }
      : { template: { spec: { serviceAccountName: to } } };
  if (w.kind === 'Pod') return `recreate pod ${w.name} with serviceAccountName: ${to} (a pod's ServiceAccount cannot change)`;
  return `kubectl patch -n ${w.namespace} ${w.kind.toLowerCase()} ${w.name} --type merge -p '${JSON.stringify({ spec: path })}'`;
};

interface Group {
  namespace: string;
  roleArn: string;
  workloads: KiamWorkload[];
}

/** The ServiceAccount a group's workloads use after the move: theirs if they share one of their own, else a new one. */
function chooseServiceAccount(g: Group, groups: readonly Group[], taken: Set<string>): { name: string; reuse: boolean } {
  const used = new Set(g.workloads.map((w) => w.serviceAccount));
  const only = used.size === 1 ? [...used][0] : undefined;
  const sharedWithOthers = groups.some((o) => o !== g && o.namespace === g.namespace && o.workloads.some((w) => w.serviceAccount === only));
  if (only !== undefined && only !== 'default' && !sharedWithOthers && !taken.has(`${g.namespace}/${only}`))
    return { name: only, reuse: true };
  let name = serviceAccountNameFor(g.roleArn);
  for (
    let n = 2;
    taken.has(`${g.namespace}/${name}`) ||
    groups.some((o) => o.namespace === g.namespace && o.workloads.some((w) => w.serviceAccount === name));
    n++
  ) {
    name = `${serviceAccountNameFor(g.roleArn).slice(0, 60)}-${n}`;
  }
  return { name, reuse: false };
}

function groupWorkloads(
  namespaces: readonly KiamNamespace[],
  workloads: readonly KiamWorkload[],
  o: KiamOptions,
  warnings: string[],
): Group[] {
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  const groups = new Map<string, Group>();
  const ordered = [...workloads].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
  for (const w of ordered) {
    const arn = roleArnOf(w.role, o);
    const who = `${w.kind} ${w.namespace}/${w.name}`;
    if (!arn || !parseArn(arn)) {
      warnings.push(`${who}: role ${w.role} is a name and neither --role-base-arn nor --account is given: not imported`);
      continue;
    }
    const refused = permits(byName.get(w.namespace) ?? { name: w.namespace }, w.role, arn);
    if (refused) {
      warnings.push(`${who}: ${refused}: not imported`);
      continue;
    }
    const key = `${w.namespace}\u0000${arn}`;
    const g = groups.get(key) ?? { namespace: w.namespace, roleArn: arn, workloads: [] };
    g.workloads.push(w);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.roleArn.localeCompare(b.roleArn));
}

function trustFor(roleArn: string, subjects: readonly { namespace: string; name: string }[], o: KiamOptions): TrustNeeded {
  const parsed = parseArn(roleArn);
  const partition = (parsed?.partition ?? o.partition) as Partition;
  const providerArn = oidcProviderArn(partition, parsed?.account ?? o.account ?? '', o.issuerHostPath);
  const subs = subjects.map((s) => serviceAccountSubject(s.namespace, s.name));
  const first = subjects[0] ?? { namespace: '', name: '' };
  const doc = buildTrustPolicy({
    oidcProviderArn: providerArn,
    issuerHostPath: o.issuerHostPath,
    namespace: first.namespace,
    serviceAccountName: first.name,
    audience: o.audience,
  });
  const statement = structuredClone((doc.Statement as Record<string, unknown>[])[0] ?? {});
  const equals = (statement.Condition as Record<string, Record<string, unknown>>).StringEquals ?? {};
  equals[`${o.issuerHostPath}:sub`] = subs.length === 1 ? subs[0] : subs;
  const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  return {
    roleArn,
    serviceAccounts: subjects.map((s) => `${s.namespace}/${s.name}`),
    statement,
    command: `aws iam get-role --role-name ${name} --query Role.AssumeRolePolicyDocument > trust.json; add the statement to Statement; aws iam update-assume-role-policy --role-name ${name} --policy-document file://trust.json`,
  };
}

export function planKiam(namespaces: readonly KiamNamespace[], workloads: readonly KiamWorkload[], o: KiamOptions): ImportResult {
  const warnings: string[] = [];
  const groups = groupWorkloads(namespaces, workloads, o, warnings);
  const result: ImportResult = { objects: [], warnings, workloads: [], trust: [] };
  const taken = new Set<string>();
  const subjects = new Map<string, { namespace: string; name: string }[]>();
  for (const g of groups) {
    const sa = chooseServiceAccount(g, groups, taken);
    taken.add(`${g.namespace}/${sa.name}`);
    subjects.set(g.roleArn, [...(subjects.get(g.roleArn) ?? []), { namespace: g.namespace, name: sa.name }]);
    const moving = g.workloads.filter((w) => w.serviceAccount !== sa.name);
    for (const w of moving)
      result.workloads?.push({
        namespace: w.namespace,
        kind: w.kind,
        name: w.name,
        from: w.serviceAccount,
        to: sa.name,
        command: switchCommand(w, sa.name),
      });
    const spec = { attachRoleARN: g.roleArn, serviceAccount: sa.reuse ? { name: sa.name, overrideExisting: true } : { name: sa.name } };
    const who = g.workloads.map((w) => `${w.kind}/${w.name}`).join(', ');
    result.objects.push({
      object: { apiVersion: API_VERSION, kind: KIND, metadata: { name: sa.name, namespace: g.namespace }, spec },
      mode: 'attachRoleARN',
      notes: [
        `kiam role ${g.roleArn} of ${who}`,
        sa.reuse
          ? `they already share ServiceAccount ${sa.name}: the operator annotates it (overrideExisting)`
          : `the operator creates ServiceAccount ${sa.name}; switch ${moving.length === 1 ? 'the workload' : `the ${moving.length} workloads`} to it (below)`,
        `the role must trust ${g.namespace}/${sa.name} (statement below) before the object is Ready; then drop the ${KIAM_ROLE} annotations`,
      ],
    });
  }
  for (const [arn, subs] of subjects) result.trust?.push(trustFor(arn, subs, o));
  return result;
}
