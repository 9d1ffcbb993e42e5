// Subject patterns: the ServiceAccounts of one namespace a role's trust admits with StringLike
// (`ci-*`, `*`), and the audit of a trust document that no subject reaches another namespace.
// Pure.
import { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, SUBJECT_PATTERN_PATTERN } from '../api/schema.ts';
import { asArray, isRecord, type PolicyDocument } from './document.ts';
import { globToRegExp } from './glob.ts';
import { POD_IDENTITY_PRINCIPAL } from './trust.ts';

const SUBJECT_PATTERN = new RegExp(SUBJECT_PATTERN_PATTERN);
const NAME = new RegExp(DNS_SUBDOMAIN_PATTERN);
const NAMESPACE = new RegExp(DNS_LABEL_PATTERN);

export const isSubjectPattern = (pattern: string): boolean => pattern.length <= 253 && SUBJECT_PATTERN.test(pattern);

/** Whether a pattern (as IAM's StringLike reads it) admits a ServiceAccount name. */
export const subjectPatternMatches = (pattern: string, name: string): boolean => globToRegExp(pattern).test(name);

/**
 * Where a trust document admits a subject outside what the object may reach, or undefined: every
 * statement must pin `<issuer>:sub` with StringEquals or StringLike (and nothing else) to
 * `system:serviceaccount:<namespace>:<name>`; a StringLike one (a pattern) and every one of this
 * cluster's issuer must be in `namespace`, the object's own. EKS Pod Identity's statement
 * (pods.eks.amazonaws.com) must pin the namespace tag EKS sets to `namespace`, or, without session
 * tags, the cluster (aws:SourceArn).
 */
export function subjectEscape(doc: PolicyDocument, namespace: string, ownIssuerHostPath: string): string | undefined {
  for (const [i, st] of asArray(doc.Statement).entries()) {
    if (!isRecord(st)) return `statement ${i} is not an object`;
    const condition = isRecord(st.Condition) ? st.Condition : {};
    if (isRecord(st.Principal) && st.Principal.Service === POD_IDENTITY_PRINCIPAL) {
      const escape = podIdentityEscape(condition, i, namespace);
      if (escape) return escape;
      continue;
    }
    const subs = Object.entries(condition).flatMap(([operator, block]) =>
      isRecord(block)
        ? Object.entries(block)
            .filter(([key]) => key.toLowerCase().endsWith(':sub'))
            .map(([key, value]) => ({ operator, key, values: asArray(value) }))
        : [],
    );
    if (subs.length !== 1) return `statement ${i} must pin the token's sub with exactly one condition, not ${subs.length}`;
    const [{ operator, key, values } = { operator: '', key: '', values: [] }] = subs;
    if (operator !== 'StringEquals' && operator !== 'StringLike') return `statement ${i} tests ${key} with ${operator}`;
    const issuer = key.slice(0, -':sub'.length);
    for (const v of values) {
      const m = typeof v === 'string' ? /^system:serviceaccount:([^:]*):([^:]*)$/.exec(v) : null;
      const [, ns = '', name = ''] = m ?? [];
      if (!m || !NAMESPACE.test(ns)) return `statement ${i}: ${JSON.stringify(v)} is not system:serviceaccount:<namespace>:<name>`;
      const pattern = operator === 'StringLike';
      if (pattern ? !isSubjectPattern(name) : !NAME.test(name))
        return `statement ${i}: ${JSON.stringify(name)} is not a ServiceAccount name${pattern ? ' pattern' : ''}`;
      if ((pattern || issuer.toLowerCase() === ownIssuerHostPath.toLowerCase()) && ns !== namespace)
        return `statement ${i} admits system:serviceaccount:${ns}:${name}, outside namespace ${namespace}${pattern ? ' (a pattern stays in its own namespace)' : ''}`;
    }
  }
  return undefined;
}

/** Where EKS Pod Identity's statement reaches beyond the object's namespace, or undefined. */
function podIdentityEscape(condition: Record<string, unknown>, i: number, namespace: string): string | undefined {
  const equals = isRecord(condition.StringEquals) ? condition.StringEquals : {};
  if (Object.keys(condition).some((k) => k !== 'StringEquals')) return `statement ${i} (Pod Identity) may only test with StringEquals`;
  const tagged = equals['aws:RequestTag/kubernetes-namespace'];
  if (tagged !== undefined)
    return tagged === namespace
      ? undefined
      : `statement ${i} (Pod Identity) admits namespace ${JSON.stringify(tagged)}, outside ${namespace}`;
  return typeof equals['aws:SourceArn'] === 'string'
    ? undefined
    : `statement ${i} (Pod Identity) pins neither the namespace nor the cluster`;
}
