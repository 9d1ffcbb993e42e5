// A botocore service model (the JSON AWS publishes for its SDKs; botocore ships it with moto in
// the test environment's venv) read for what a stand-in needs: each operation's HTTP binding, and
// a check of a value against a shape: required members, types, lengths, ranges, patterns, enums.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readTestenv } from './cluster.ts';

export interface Member {
  shape: string;
  location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
  locationName?: string;
  idempotencyToken?: boolean;
}

export interface Shape {
  type: 'structure' | 'string' | 'integer' | 'long' | 'boolean' | 'timestamp' | 'map' | 'list' | 'double' | 'float' | 'blob';
  members?: Record<string, Member>;
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  key?: { shape: string };
  value?: { shape: string };
  member?: { shape: string };
  error?: { httpStatusCode: number };
}

export interface Operation {
  name: string;
  http: { method: string; requestUri: string };
  input?: { shape: string };
  output?: { shape: string };
  errors?: { shape: string }[];
}

export interface ServiceModel {
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** botocore's model of `service` in the moto venv setup.sh made (the newest API version it has). */
export function botocoreModelPath(service: string): string {
  // The venv's interpreter (bin/python3): the venv's lib/ is beside bin/.
  const python3 = readTestenv().MOTO_PYTHON;
  if (!python3) throw new Error('MOTO_PYTHON is not in .cache/testenv.env: run `npm run env:setup`');
  const lib = join(dirname(dirname(python3)), 'lib');
  const python = readdirSync(lib).find((d) => d.startsWith('python'));
  if (!python) throw new Error(`no python* directory in ${lib}`);
  const dir = join(lib, python, 'site-packages', 'botocore', 'data', service);
  const version = readdirSync(dir).sort().pop();
  if (!version) throw new Error(`botocore has no model of ${service} in ${dir}`);
  return join(dir, version, 'service-2.json.gz');
}

export function loadModel(path: string): ServiceModel {
  const raw = readFileSync(path);
  return JSON.parse((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as ServiceModel;
}

/** What is wrong with `value` as a `shapeName` (at `where`), or undefined when it fits. */
export function shapeProblem(model: ServiceModel, shapeName: string, value: unknown, where: string): string | undefined {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`the model has no shape ${shapeName}`);
  const within = (n: number, what: string) =>
    (shape.min !== undefined && n < shape.min) || (shape.max !== undefined && n > shape.max)
      ? `${where}: ${what} ${n} is outside ${shape.min ?? '-'}..${shape.max ?? '-'}`
      : undefined;
  switch (shape.type) {
    case 'structure':
      return structureProblem(model, shape, value, where);
    case 'string': {
      if (typeof value !== 'string') return `${where}: expected a string`;
      if (shape.enum && !shape.enum.includes(value)) return `${where}: ${value} is not one of ${shape.enum.join(', ')}`;
      if (shape.pattern !== undefined && !new RegExp(shape.pattern, 'u').test(value)) return `${where}: does not match ${shape.pattern}`;
      // AWS counts characters (code points): a surrogate pair is one.
      return within(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length, 'length');
    }
    case 'integer':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value) ? within(value, 'value') : `${where}: expected an integer`;
    case 'double':
    case 'float':
      return typeof value === 'number' ? within(value, 'value') : `${where}: expected a number`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${where}: expected a boolean`;
    case 'timestamp':
      return typeof value === 'number' || typeof value === 'string' ? undefined : `${where}: expected a timestamp`;
    case 'blob':
      return typeof value === 'string' ? undefined : `${where}: expected base64 data`;
    case 'list': {
      if (!Array.isArray(value)) return `${where}: expected a list`;
      const itemShape = shape.member?.shape ?? '';
      return within(value.length, 'length') ?? firstProblem(value.map((v, i) => () => shapeProblem(model, itemShape, v, `${where}[${i}]`)));
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where}: expected a map`;
      const entries = Object.entries(value);
      const [k, v] = [shape.key?.shape ?? '', shape.value?.shape ?? ''];
      return (
        within(entries.length, 'size') ??
        firstProblem(
          entries.flatMap(([key, val]) => [
            () => shapeProblem(model, k, key, `${where} key ${JSON.stringify(key)}`),
            () => shapeProblem(model, v, val, `${where}.${key}`),
          ]),
        )
      );
    }
  }
}

function structureProblem(model: ServiceModel, shape: Shape, value: unknown, where: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where}: expected a structure`;
  const record = value as Record<string, unknown>;
  const members = shape.members ?? {};
  const missing = (shape.required ?? []).filter((m) => record[m] === undefined || record[m] === null);
  if (missing.length > 0) return `${where}: missing required ${missing.join(', ')}`;
  const unknown = Object.keys(record).filter((k) => !(k in members));
  if (unknown.length > 0) return `${where}: unknown member ${unknown.join(', ')}`;
  return firstProblem(
    Object.entries(record)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(
        ([k, v]) =>
          () =>
            shapeProblem(model, members[k]?.shape ?? '', v, where === '' ? k : `${where}.${k}`),
      ),
  );
}

function firstProblem(checks: (() => string | undefined)[]): string | undefined {
  for (const check of checks) {
    const p = check();
    if (p !== undefined) return p;
  }
  return undefined;
}
