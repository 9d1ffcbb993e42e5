// The checks the API server makes before CEL: apiVersion, metadata.name, and the CRD's OpenAPI
// schema (src/api/schema.ts, the source of crds/) with unknown fields refused as kubectl's strict
// field validation refuses them and `x-kubernetes-list-type: set` lists free of duplicates.
import { Ajv, type ErrorObject } from 'ajv';
import { openAPIV3Schema } from '../api/schema.ts';
import { strictSchema } from '../api/validate.ts';
import { API_VERSION } from '../api/types.ts';
import { error, quoteValue, typeName, type Finding } from './findings.ts';
import { fieldName, isRecord } from './files.ts';

/** The schema for ajv: strict (unknown fields refused), sets unique; status left out (never applied). */
function checkableSchema(): object {
  const { status: _status, ...properties } = openAPIV3Schema.properties;
  const withSets = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(withSets);
    if (!isRecord(node)) return node;
    const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withSets(v)]));
    if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
    return out;
  };
  return strictSchema(withSets({ ...openAPIV3Schema, properties })) as object;
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateObject = ajv.compile(checkableSchema());

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A JSON pointer into `data` as a field path: array indexes become numbers. */
function pointerPath(pointer: string, data: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) {
      out.push(Number(part));
      cur = cur[Number(part)];
    } else {
      out.push(part);
      cur = isRecord(cur) ? cur[part] : undefined;
    }
  }
  return out;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let cur = data;
  for (const p of path) cur = Array.isArray(cur) ? cur[Number(p)] : isRecord(cur) ? cur[String(p)] : undefined;
  return cur;
}

type Params = Record<string, unknown>;

/** One ajv error as the API server words the same failure. */
function describe(err: ErrorObject, data: unknown): Finding {
  const path = pointerPath(err.instancePath, data);
  const value = valueAt(data, path);
  const p = err.params as Params;
  const invalid = (text: string) => error(path, `Invalid value: ${quoteValue(value)}: ${text}`);
  switch (err.keyword) {
    case 'required':
      return error([...path, String(p.missingProperty)], 'Required value');
    case 'additionalProperties': {
      const field = [...path, String(p.additionalProperty)];
      return error(field, `unknown field ${JSON.stringify(fieldName(field))}`);
    }
    case 'type':
      return error(path, `Invalid value: ${quoteValue(typeName(value))}: must be of type ${String(p.type)}: ${quoteValue(value)}`);
    case 'enum':
      return error(
        path,
        `Unsupported value: ${quoteValue(value)}: supported values: ${(p.allowedValues as unknown[]).map(quoteValue).join(', ')}`,
      );
    case 'uniqueItems': {
      const at = Math.max(Number(p.i), Number(p.j));
      return error([...path, at], `Duplicate value: ${quoteValue(valueAt(data, [...path, at]))}`);
    }
    case 'maxItems':
    case 'maxProperties': {
      const n = Array.isArray(value) ? value.length : isRecord(value) ? Object.keys(value).length : 0;
      return error(path, `Too many: ${n}: must have at most ${String(p.limit)} items`);
    }
    case 'maxLength':
      return error(path, `Too long: may not be more than ${String(p.limit)} bytes`);
    case 'minLength':
      return invalid(`should be at least ${String(p.limit)} chars long`);
    case 'pattern':
      return invalid(`should match '${String(p.pattern)}'`);
    case 'minimum':
      return invalid(`should be greater than or equal to ${String(p.limit)}`);
    case 'maximum':
      return invalid(`should be less than or equal to ${String(p.limit)}`);
    default:
      return invalid(err.message ?? 'is invalid');
  }
}

/** apiVersion, kind, metadata.name and namespace as the API server checks them for a custom resource. */
function checkMeta(obj: Record<string, unknown>): Finding[] {
  const out: Finding[] = [];
  if (obj.apiVersion !== API_VERSION) {
    out.push(error(['apiVersion'], `no matches for kind "IamServiceAccount" in version ${quoteValue(obj.apiVersion)}: use ${API_VERSION}`));
  }
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const name = meta.name;
  if (typeof name !== 'string' || name === '') out.push(error(['metadata', 'name'], 'Required value: name is required'));
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    out.push(
      error(
        ['metadata', 'name'],
        `Invalid value: ${quoteValue(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      ),
    );
  }
  const ns = meta.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns))) {
    out.push(
      error(
        ['metadata', 'namespace'],
        `Invalid value: ${quoteValue(ns)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`,
      ),
    );
  }
  return out;
}

/** Everything the API server refuses before CEL runs. */
export function checkSchema(obj: Record<string, unknown>): Finding[] {
  const findings = checkMeta(obj);
  const { status: _status, ...applied } = obj;
  if (!validateObject(applied)) {
    const seen = new Set<string>();
    for (const err of validateObject.errors ?? []) {
      const f = describe(err, applied);
      const key = `${fieldName(f.path)}\u0000${f.message}`;
      if (!seen.has(key)) findings.push(f);
      seen.add(key);
    }
  }
  return findings;
}
