// irsa import eksctl: an eksctl ClusterConfig's iam.serviceAccounts[] as IamServiceAccounts. The
// API follows eksctl's field names, so most fields carry over as they are; each one that cannot
// is named in a warning. Pure.
import { POLICY_ARN_PATTERN, ROLE_ARN_PATTERN, ROLE_NAME_PATTERN } from '../api/schema.ts';
import { API_VERSION, KIND, MANAGED_BY_LABEL, SA_ANNOTATIONS, WELL_KNOWN_POLICY_NAMES, type IamServiceAccountSpec } from '../api/types.ts';
import { isRecord } from './files.ts';
import type { ImportedObject, ImportResult } from './import-result.ts';

const KNOWN_FIELDS = new Set([
  'metadata',
  'attachPolicyARNs',
  'wellKnownPolicies',
  'attachPolicy',
  'attachRoleARN',
  'permissionsBoundary',
  'status',
  'roleName',
  'roleOnly',
  'tags',
]);

interface Mapping {
  spec: IamServiceAccountSpec;
  warn: (field: string, why: string) => void;
  notes: string[];
}

/** The spec without these fields. */
function without(spec: IamServiceAccountSpec, keys: readonly (keyof IamServiceAccountSpec)[]): IamServiceAccountSpec {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !(keys as readonly string[]).includes(k)));
}

const strings = (v: unknown): Record<string, string> =>
  isRecord(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};

/** metadata.annotations: eks.amazonaws.com/* become spec fields; the rest go to the ServiceAccount. */
function mapAnnotations(annotations: Record<string, string>, m: Mapping): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) {
    if (k === SA_ANNOTATIONS.audience) m.spec.audience = v;
    else if (k === SA_ANNOTATIONS.tokenExpiration && /^\d+$/.test(v)) m.spec.tokenExpiration = Number(v);
    else if (k === SA_ANNOTATIONS.stsRegionalEndpoints && (v === 'true' || v === 'false')) m.spec.stsRegionalEndpoints = v === 'true';
    else if (k === SA_ANNOTATIONS.roleArn)
      m.warn(`metadata.annotations.${k}`, 'the operator writes the role ARN; use attachRoleARN for an existing role');
    else if (k.startsWith('eks.amazonaws.com/') || k.startsWith('irsa.dev/'))
      m.warn(`metadata.annotations.${k}`, `${JSON.stringify(v)} is not a value the operator accepts for it`);
    else kept[k] = v;
  }
  return kept;
}

function mapServiceAccount(meta: Record<string, unknown>, m: Mapping): void {
  const labels = strings(meta.labels);
  if (labels[MANAGED_BY_LABEL] !== undefined) m.warn(`metadata.labels.${MANAGED_BY_LABEL}`, 'the operator sets it');
  const kept = Object.fromEntries(Object.entries(labels).filter(([k]) => k !== MANAGED_BY_LABEL));
  const annotations = mapAnnotations(strings(meta.annotations), m);
  const sa: NonNullable<IamServiceAccountSpec['serviceAccount']> = {};
  if (Object.keys(kept).length > 0) sa.labels = kept;
  if (Object.keys(annotations).length > 0) sa.annotations = annotations;
  if (m.spec.roleOnly === true) {
    for (const k of Object.keys(sa)) m.warn(`metadata.${k}`, 'roleOnly: the operator never touches the ServiceAccount');
    const dropped = (['tokenExpiration', 'stsRegionalEndpoints'] as const).filter((k) => m.spec[k] !== undefined);
    for (const k of dropped) m.warn(`metadata.annotations (${k})`, 'roleOnly: the operator never touches the ServiceAccount');
    m.spec = without(m.spec, dropped);
    return;
  }
  // eksctl made the ServiceAccount: the operator takes it over rather than refuse it (ServiceAccountExists).
  sa.overrideExisting = true;
  m.spec.serviceAccount = sa;
}

function mapArn(value: unknown, pattern: string, field: string, m: Mapping, why: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && new RegExp(pattern).test(value)) return value;
  m.warn(field, `${JSON.stringify(value)} ${why}`);
  return undefined;
}

function mapPolicies(sa: Record<string, unknown>, m: Mapping): void {
  const arns = Array.isArray(sa.attachPolicyARNs) ? sa.attachPolicyARNs : [];
  const valid = arns.filter(
    (a, i) => mapArn(a, POLICY_ARN_PATTERN, `attachPolicyARNs[${i}]`, m, 'is not a managed policy ARN') !== undefined,
  );
  if (valid.length > 0) m.spec.attachPolicyARNs = [...new Set(valid as string[])];
  if (isRecord(sa.wellKnownPolicies)) {
    const wk: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(sa.wellKnownPolicies)) {
      if ((WELL_KNOWN_POLICY_NAMES as readonly string[]).includes(k)) {
        if (v === true) wk[k] = true;
      } else m.warn(`wellKnownPolicies.${k}`, "is not one of eksctl's well-known policies the operator knows");
    }
    if (Object.keys(wk).length > 0) m.spec.wellKnownPolicies = wk;
  }
  if (isRecord(sa.attachPolicy) && Object.keys(sa.attachPolicy).length > 0) m.spec.attachPolicy = sa.attachPolicy;
  const boundary = mapArn(
    sa.permissionsBoundary,
    POLICY_ARN_PATTERN,
    'permissionsBoundary',
    m,
    'is not a managed policy ARN: the role gets no boundary from this object (unless the operator forces one); fix the ARN and add it',
  );
  if (boundary) m.spec.permissionsBoundary = boundary;
}

function mapRole(sa: Record<string, unknown>, m: Mapping): void {
  const attach = mapArn(sa.attachRoleARN, ROLE_ARN_PATTERN, 'attachRoleARN', m, 'is not a role ARN');
  if (attach) m.spec.attachRoleARN = attach;
  const roleName = typeof sa.roleName === 'string' && sa.roleName !== '' ? sa.roleName : undefined;
  if (roleName !== undefined) {
    if (new RegExp(ROLE_NAME_PATTERN).test(roleName)) m.spec.roleName = roleName;
    else m.warn('roleName', `${JSON.stringify(roleName)} is not a valid IAM role name`);
  }
  if (sa.roleOnly === true) m.spec.roleOnly = true;
  const reserved = (k: string) => k.startsWith('aws:') || k.startsWith('irsa.dev/');
  const all = strings(sa.tags);
  for (const k of Object.keys(all).filter(reserved)) m.warn(`tags.${k}`, 'the prefix is reserved');
  const tags = Object.fromEntries(Object.entries(all).filter(([k]) => !reserved(k)));
  if (Object.keys(tags).length > 0) m.spec.tags = tags;
}

/** One eksctl iam.serviceAccounts[] entry. */
export function mapEksctlServiceAccount(sa: unknown, index: number, cluster: string): ImportedObject | { skipped: string } {
  const where = `iam.serviceAccounts[${index}]`;
  if (!isRecord(sa) || !isRecord(sa.metadata) || typeof sa.metadata.name !== 'string')
    return { skipped: `${where}: no metadata.name: not imported` };
  const name = sa.metadata.name;
  const namespace = typeof sa.metadata.namespace === 'string' && sa.metadata.namespace !== '' ? sa.metadata.namespace : 'default';
  const warnings: string[] = [];
  const m: Mapping = {
    spec: {},
    notes: [],
    warn: (field, why) => warnings.push(`${where} (${namespace}/${name}): ${field}: ${why}: not mapped`),
  };
  for (const k of Object.keys(sa)) if (!KNOWN_FIELDS.has(k)) m.warn(k, 'eksctl field unknown to the importer');
  if (sa.status !== undefined) m.notes.push("status (eksctl's record of what it made) is not configuration: left out");
  mapRole(sa, m);
  mapPolicies(sa, m);
  mapServiceAccount(sa.metadata, m);
  if (m.spec.attachRoleARN !== undefined) {
    const dropped = (['attachPolicyARNs', 'attachPolicy', 'wellKnownPolicies', 'roleName', 'permissionsBoundary', 'tags'] as const).filter(
      (k) => m.spec[k] !== undefined,
    );
    for (const k of dropped) m.warn(k, 'attachRoleARN uses the existing role as it is');
    m.spec = without(m.spec, dropped);
  }
  if (m.spec.attachRoleARN === undefined && m.spec.roleName === undefined) {
    m.notes.push(
      `eksctl made this role with CloudFormation (stack eksctl-${cluster}-addon-iamserviceaccount-${namespace}-${name}); the operator makes a new one. Keep the old one instead: irsa import cluster (attachRoleARN); else delete the stack once pods use the new role`,
    );
  } else if (m.spec.roleName !== undefined) {
    m.notes.push(
      `role ${m.spec.roleName} exists if eksctl made it: the operator takes it over only with adoptExistingRoles: true (else RoleNotOwned)`,
    );
  }
  return {
    object: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec: m.spec },
    notes: m.notes,
    warnings,
  };
}

/** A ClusterConfig (eksctl.io/v1alpha5) to IamServiceAccounts. */
export function importEksctl(config: unknown, source: string): ImportResult {
  const result: ImportResult = { objects: [], warnings: [] };
  if (!isRecord(config) || config.kind !== 'ClusterConfig') {
    result.warnings.push(`${source}: not an eksctl ClusterConfig (kind: ClusterConfig): nothing imported`);
    return result;
  }
  const meta = isRecord(config.metadata) ? config.metadata : {};
  const cluster = typeof meta.name === 'string' ? meta.name : '<cluster>';
  const iam = isRecord(config.iam) ? config.iam : {};
  const accounts = Array.isArray(iam.serviceAccounts) ? iam.serviceAccounts : [];
  if (accounts.length === 0) result.warnings.push(`${source}: iam.serviceAccounts is empty: no IamServiceAccount to import`);
  if (iam.withOIDC !== true && accounts.length > 0) {
    result.warnings.push(
      `${source}: iam.withOIDC is not true: the cluster needs an IAM OIDC provider (eksctl utils associate-iam-oidc-provider)`,
    );
  }
  for (const [i, sa] of accounts.entries()) {
    const r = mapEksctlServiceAccount(sa, i, cluster);
    if ('skipped' in r) result.warnings.push(`${source}: ${r.skipped}`);
    else {
      result.objects.push({ ...r, notes: [`from ${source} iam.serviceAccounts[${i}] (cluster ${cluster})`, ...r.notes] });
      result.warnings.push(...(r.warnings ?? []).map((w) => `${source}: ${w}`));
    }
  }
  const pia = Array.isArray(iam.podIdentityAssociations) ? iam.podIdentityAssociations : [];
  for (const [i, a] of pia.entries()) {
    const who = isRecord(a) ? `${String(a.namespace)}/${String(a.serviceAccountName)}` : '?';
    result.warnings.push(`${source}: iam.podIdentityAssociations[${i}] (${who}): EKS Pod Identity, not IRSA: not mapped`);
  }
  return result;
}
