// The operator's own check of an object before any AWS call: the CRD schema (ajv, unknown fields
// refused), the CEL rules of the CRD, and the checks too costly for CEL. Pure.
import { Ajv, type ErrorObject } from 'ajv';
import type { Reason } from './reasons.ts';
import { specSchema } from './schema.ts';
import { MANAGED_BY_LABEL, type IamServiceAccountSpec } from './types.ts';

export interface SpecProblem {
  reason: Reason;
  message: string;
}

/** The schema as ajv should read it: objects with declared properties refuse others. */
export function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-')) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if ('properties' in out && !('x-kubernetes-preserve-unknown-fields' in node)) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateSchema = ajv.compile<IamServiceAccountSpec>(strictSchema(specSchema) as object);

function describe(err: ErrorObject): string {
  const path = `spec${err.instancePath.replaceAll('/', '.')}`;
  if (err.keyword === 'additionalProperties')
    return `${path}: unknown field ${(err.params as { additionalProperty: string }).additionalProperty}`;
  if (err.keyword === 'required') return `${path}: ${(err.params as { missingProperty: string }).missingProperty} is required`;
  return `${path} ${err.message ?? 'is invalid'}`;
}

const invalid = (message: string): SpecProblem => ({ reason: 'InvalidSpec', message });

export function validateSpec(spec: unknown): SpecProblem | undefined {
  if (!validateSchema(spec)) return invalid((validateSchema.errors ?? []).map(describe).join('; '));
  const s = spec;
  const combination = combinationProblem(s);
  if (combination) return invalid(combination);
  for (const key of Object.keys(s.tags ?? {})) {
    if (key.length > 128 || key.length === 0)
      return invalid(`spec.tags: key ${JSON.stringify(key.slice(0, 40))} must be 1 to 128 characters`);
    if (key.startsWith('aws:') || key.startsWith('irsa.dev/'))
      return invalid(`spec.tags: key ${key} is reserved (aws: and irsa.dev/ prefixes)`);
  }
  for (const key of Object.keys(s.serviceAccount?.annotations ?? {})) {
    if (key.startsWith('eks.amazonaws.com/') || key.startsWith('irsa.dev/')) {
      return invalid(
        `spec.serviceAccount.annotations: ${key} is set by the operator from spec fields (audience, tokenExpiration, stsRegionalEndpoints); remove it`,
      );
    }
  }
  if (s.serviceAccount?.labels?.[MANAGED_BY_LABEL] !== undefined) {
    return invalid(`spec.serviceAccount.labels: ${MANAGED_BY_LABEL} is set by the operator; remove it`);
  }
  if (s.attachPolicy !== undefined) {
    const problem = statementProblem(s.attachPolicy.Statement);
    if (problem) return invalid(`spec.attachPolicy.Statement: ${problem}`);
  }
  return undefined;
}

/** Fields that do not go together (the CRD's CEL rules, and what CEL cannot say): the message, or undefined. */
function combinationProblem(s: IamServiceAccountSpec): string | undefined {
  if (s.attachRoleARN !== undefined) {
    const extra = (
      [
        'attachPolicyARNs',
        'attachPolicy',
        'wellKnownPolicies',
        'roleName',
        'rolePath',
        'roleDescription',
        'permissionsBoundary',
        'maxSessionDuration',
        'tags',
      ] as const
    ).filter((k) => s[k] !== undefined);
    if (extra.length > 0) return `attachRoleARN uses an existing role as it is: remove ${extra.join(', ')}`;
    const trust = (['additionalClusters', 'subjectPattern'] as const).filter((k) => s[k] !== undefined);
    if (trust.length > 0) return `attachRoleARN uses an existing role as it is: its trust is not written; remove ${trust.join(' and ')}`;
  }
  if (s.account !== undefined && s.attachRoleARN !== undefined && s.attachRoleARN.split(':')[4] !== s.account) {
    return `attachRoleARN is a role of account ${s.attachRoleARN.split(':')[4] ?? '?'}, not of spec.account ${s.account}: remove spec.account or make them agree`;
  }
  if (s.roleOnly === true) {
    const extra = (['serviceAccount', 'attachRoleARN', 'tokenExpiration', 'stsRegionalEndpoints'] as const).filter(
      (k) => s[k] !== undefined,
    );
    if (extra.length > 0) return `roleOnly never touches a ServiceAccount: remove ${extra.join(', ')}`;
  }
  const identity = s.identity ?? 'IRSA';
  if (s.podIdentity !== undefined && identity === 'IRSA') {
    return 'podIdentity configures the EKS Pod Identity association: set identity to PodIdentity or Both, or remove podIdentity';
  }
  if (identity !== 'IRSA') {
    const extra = (['attachRoleARN', 'roleOnly'] as const).filter((k) => s[k] !== undefined && s[k] !== false);
    if (extra.length > 0) {
      return `identity ${identity} needs a role the operator manages and a ServiceAccount: remove ${extra.join(', ')}`;
    }
  }
  return undefined;
}

function statementProblem(statement: unknown): string | undefined {
  const list = Array.isArray(statement) ? statement : [statement];
  if (list.length === 0) return 'needs at least one statement';
  for (const [i, st] of list.entries()) {
    if (typeof st !== 'object' || st === null || Array.isArray(st)) return `statement ${i} is not an object`;
    const rec = st as Record<string, unknown>;
    if (rec.Effect !== 'Allow' && rec.Effect !== 'Deny') return `statement ${i}: Effect must be Allow or Deny`;
    if (rec.Action === undefined && rec.NotAction === undefined) return `statement ${i}: needs Action or NotAction`;
    if (rec.Resource === undefined && rec.NotResource === undefined) return `statement ${i}: needs Resource or NotResource`;
    if (rec.Principal !== undefined || rec.NotPrincipal !== undefined) return `statement ${i}: an identity policy has no Principal`;
  }
  return undefined;
}
