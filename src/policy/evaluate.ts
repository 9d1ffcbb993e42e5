// IAM's evaluation of one request against one resource policy (a role's trust policy): explicit
// Deny wins, then any Allow, else an implicit deny. Principal/NotPrincipal, Action/NotAction,
// Resource/NotResource, every condition operator with IfExists, ForAnyValue/ForAllValues and
// multi-valued keys, and policy variables in condition values. Pure.
//
// Checked against @cloud-copilot/iam-simulate (AGPL, used only in tests) on a table of documents
// in test/unit/policy/evaluate.test.ts; that library cannot run inside the operator's Apache-2.0
// image.
import { BlockList, isIP } from 'node:net';
import { asArray, isRecord, type PolicyDocument } from './document.ts';
import { globToRegExp } from './glob.ts';

export interface PolicyRequest {
  /** The principal's ARN, as matched against Principal (for web identity: the OIDC provider's ARN). */
  principal: string;
  /** The Principal element's key the principal is listed under: Federated, AWS, Service. */
  principalType: 'Federated' | 'AWS' | 'Service';
  action: string;
  resource: string;
  /** Context keys (case-insensitive) and their values; an array is a multi-valued key. */
  context: Readonly<Record<string, string | readonly string[]>>;
}

export type Decision = { effect: 'Allow'; statement: string } | { effect: 'ExplicitDeny'; statement: string } | { effect: 'ImplicitDeny' };

/** How a statement is named in messages: its Sid, else its 0-based position. */
export const statementName = (st: Record<string, unknown>, i: number) =>
  typeof st.Sid === 'string' && st.Sid !== '' ? `"${st.Sid}"` : `${i}`;

export function evaluatePolicy(doc: PolicyDocument, req: PolicyRequest): Decision {
  const context = lowerKeys(req.context);
  let allow: string | undefined;
  for (const [i, st] of asArray(doc.Statement).entries()) {
    if (!isRecord(st) || !statementApplies(st, req, context)) continue;
    if (st.Effect === 'Deny') return { effect: 'ExplicitDeny', statement: statementName(st, i) };
    if (st.Effect === 'Allow') allow ??= statementName(st, i);
  }
  return allow === undefined ? { effect: 'ImplicitDeny' } : { effect: 'Allow', statement: allow };
}

type Context = ReadonlyMap<string, readonly string[]>;

function lowerKeys(context: PolicyRequest['context']): Context {
  return new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? [v] : [...v]]));
}

function statementApplies(st: Record<string, unknown>, req: PolicyRequest, context: Context): boolean {
  return (
    principalMatches(st, req) &&
    matchesElement(st.Action, st.NotAction, (p) => globToRegExp(p, 'i').test(req.action)) &&
    (st.Resource === undefined && st.NotResource === undefined
      ? true
      : matchesElement(st.Resource, st.NotResource, (p) => globToRegExp(p).test(req.resource))) &&
    conditionsHold(st.Condition, context)
  );
}

/** An element and its Not twin: exactly one is given; a pattern matches, or none of the Not ones does. */
function matchesElement(element: unknown, notElement: unknown, matches: (pattern: string) => boolean): boolean {
  const strings = (v: unknown) => asArray(v).filter((x): x is string => typeof x === 'string');
  if (element !== undefined) return strings(element).some(matches);
  if (notElement !== undefined) return !strings(notElement).some(matches);
  return false;
}

function principalMatches(st: Record<string, unknown>, req: PolicyRequest): boolean {
  const listed = (p: unknown): boolean => {
    if (p === '*') return true;
    if (!isRecord(p)) return false;
    if (asArray(p.AWS).includes('*')) return true;
    return asArray(p[req.principalType]).includes(req.principal);
  };
  if (st.Principal !== undefined) return listed(st.Principal);
  if (st.NotPrincipal !== undefined) return !listed(st.NotPrincipal);
  return false;
}

function conditionsHold(condition: unknown, context: Context): boolean {
  if (condition === undefined) return true;
  if (!isRecord(condition)) return false;
  return Object.entries(condition).every(
    ([operator, block]) =>
      isRecord(block) &&
      Object.entries(block).every(([key, values]) => conditionHolds(operator, context.get(key.toLowerCase()), asArray(values), context)),
  );
}

interface Operator {
  /** Whether one context value matches one policy value. */
  match: (value: string, policy: string) => boolean;
  /** A Not operator: true when no policy value matches. */
  negated: boolean;
}

function conditionHolds(full: string, present: readonly string[] | undefined, rawPolicy: readonly unknown[], context: Context): boolean {
  const set = /^(ForAnyValue|ForAllValues):/.exec(full)?.[1];
  let name = set ? full.slice(set.length + 1) : full;
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const policy = rawPolicy.map((v) => substitute(String(v), context));
  if (name === 'Null') return policy.some((v) => v?.toLowerCase() === (present === undefined || present.length === 0 ? 'true' : 'false'));
  const op = OPERATORS[name];
  if (!op) return false;
  const values = present ?? [];
  if (values.length === 0) {
    if (ifExists || set === 'ForAllValues') return true;
    return set === undefined && op.negated;
  }
  const matchesAnyPolicy = (v: string) => policy.some((p) => p !== undefined && op.match(v, p));
  const holds = (v: string) => (op.negated ? !matchesAnyPolicy(v) : matchesAnyPolicy(v));
  if (set === 'ForAllValues') return values.every(holds);
  if (set === 'ForAnyValue') return values.some(holds);
  return op.negated ? values.every(holds) : values.some(holds);
}

/** Policy variables: `${key}` from the context (single-valued), `${*}`, `${?}`, `${$}`; undefined when one is missing. */
function substitute(value: string, context: Context): string | undefined {
  const unresolved: string[] = [];
  const out = value.replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
    if (inner === '*' || inner === '?' || inner === '$') return inner;
    const [key = '', fallback] = inner.split(/,\s*/);
    const found = context.get(key.trim().toLowerCase());
    if (found?.length === 1) return found[0] ?? '';
    const literal = fallback ? /^'(.*)'$/.exec(fallback.trim())?.[1] : undefined;
    if (literal !== undefined) return literal;
    unresolved.push(key);
    return '';
  });
  return unresolved.length > 0 ? undefined : out;
}

const like = (value: string, pattern: string) => globToRegExp(pattern).test(value);
const num = (s: string) => (s.trim() === '' ? NaN : Number(s));
const date = (s: string) => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));
const compare = (parse: (s: string) => number, test: (a: number, b: number) => boolean) => (value: string, policy: string) => {
  const [a, b] = [parse(value), parse(policy)];
  return !Number.isNaN(a) && !Number.isNaN(b) && test(a, b);
};

function inCidr(value: string, cidr: string): boolean {
  const [net = '', bits] = cidr.split('/');
  const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(value) === 0 || isIP(net) === 0 || isIP(value) !== isIP(net)) return false;
  const list = new BlockList();
  list.addSubnet(net, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
  return list.check(value, family);
}

const positive = (match: Operator['match']): Operator => ({ match, negated: false });
const negative = (match: Operator['match']): Operator => ({ match, negated: true });
const eq = (a: number, b: number) => a === b;

const OPERATORS: Readonly<Record<string, Operator>> = {
  StringEquals: positive((v, p) => v === p),
  StringNotEquals: negative((v, p) => v === p),
  StringEqualsIgnoreCase: positive((v, p) => v.toLowerCase() === p.toLowerCase()),
  StringNotEqualsIgnoreCase: negative((v, p) => v.toLowerCase() === p.toLowerCase()),
  StringLike: positive(like),
  StringNotLike: negative(like),
  NumericEquals: positive(compare(num, eq)),
  NumericNotEquals: negative(compare(num, eq)),
  NumericLessThan: positive(compare(num, (a, b) => a < b)),
  NumericLessThanEquals: positive(compare(num, (a, b) => a <= b)),
  NumericGreaterThan: positive(compare(num, (a, b) => a > b)),
  NumericGreaterThanEquals: positive(compare(num, (a, b) => a >= b)),
  DateEquals: positive(compare(date, eq)),
  DateNotEquals: negative(compare(date, eq)),
  DateLessThan: positive(compare(date, (a, b) => a < b)),
  DateLessThanEquals: positive(compare(date, (a, b) => a <= b)),
  DateGreaterThan: positive(compare(date, (a, b) => a > b)),
  DateGreaterThanEquals: positive(compare(date, (a, b) => a >= b)),
  Bool: positive((v, p) => v.toLowerCase() === p.toLowerCase()),
  BinaryEquals: positive((v, p) => v === p),
  IpAddress: positive(inCidr),
  NotIpAddress: negative(inCidr),
  ArnEquals: positive(like),
  ArnLike: positive(like),
  ArnNotEquals: negative(like),
  ArnNotLike: negative(like),
};
