// The CRD's CEL rules (x-kubernetes-validations in src/api/schema.ts), evaluated offline by a CEL
// library as the API server evaluates them: `self` is the value at the rule's node, integers are
// CEL ints. Transition rules (those that read oldSelf) need the stored object, so they are listed
// and not run, as the API server does not run them on create.
import { parse, type ParseResult } from '@marcbachmann/cel-js';
import { openAPIV3Schema } from '../api/schema.ts';
import { error, type Finding } from './findings.ts';
import { isRecord } from './files.ts';

interface Rule {
  /** Where the rule sits: property names, '*' for every item or map value. */
  at: readonly string[];
  rule: string;
  message: string;
  /** The schema node of `at`, for typing the value (integers). */
  schema: unknown;
  program: ParseResult | undefined;
}

interface RawRule {
  rule: string;
  message?: string;
}

function collect(node: unknown, at: string[], out: Rule[]): void {
  if (!isRecord(node)) return;
  const rules = node['x-kubernetes-validations'];
  if (Array.isArray(rules)) {
    for (const r of rules as RawRule[]) {
      const transition = /\boldSelf\b/.test(r.rule);
      out.push({
        at,
        rule: r.rule,
        message: r.message ?? `failed rule: ${r.rule}`,
        schema: node,
        program: transition ? undefined : parse(r.rule),
      });
    }
  }
  if (isRecord(node.properties)) for (const [k, v] of Object.entries(node.properties)) collect(v, [...at, k], out);
  if (isRecord(node.items)) collect(node.items, [...at, '*'], out);
  if (isRecord(node.additionalProperties)) collect(node.additionalProperties, [...at, '*'], out);
}

const RULES: Rule[] = [];
collect(openAPIV3Schema, [], RULES);

/** The transition rules validate cannot run offline (they compare with the stored object). */
export const TRANSITION_RULES = RULES.filter((r) => r.program === undefined).map((r) => r.message);

/** A value as CEL sees it under its schema: `type: integer` becomes a CEL int (bigint). */
export function celValue(value: unknown, schema: unknown): unknown {
  const s = isRecord(schema) ? schema : {};
  if (s.type === 'integer' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => celValue(v, s.items));
  if (isRecord(value)) {
    const props = isRecord(s.properties) ? s.properties : {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celValue(v, props[k] ?? s.additionalProperties)]));
  }
  return value;
}

/** Every value at `at` in `data`, with its path. */
function valuesAt(data: unknown, at: readonly string[], path: (string | number)[] = []): [unknown, (string | number)[]][] {
  if (at.length === 0) return [[data, path]];
  const [head, ...rest] = at;
  if (head === '*') {
    if (Array.isArray(data)) return data.flatMap((v, i) => valuesAt(v, rest, [...path, i]));
    if (isRecord(data)) return Object.entries(data).flatMap(([k, v]) => valuesAt(v, rest, [...path, k]));
    return [];
  }
  if (!isRecord(data) || head === undefined || !(head in data)) return [];
  return valuesAt(data[head], rest, [...path, head]);
}

/** The CEL rules the object breaks, worded as the API server words them. */
export function checkCel(obj: Record<string, unknown>): Finding[] {
  const out: Finding[] = [];
  for (const r of RULES) {
    if (!r.program) continue;
    for (const [value, path] of valuesAt(obj, r.at)) {
      let result: unknown;
      try {
        result = r.program({ self: celValue(value, r.schema) });
      } catch (e) {
        out.push(
          error(
            path,
            `Invalid value: "object": rule ${JSON.stringify(r.rule)} could not be evaluated: ${e instanceof Error ? e.message : String(e)}`,
          ),
        );
        continue;
      }
      if (result !== true)
        out.push(error(path, `Invalid value: ${JSON.stringify(Array.isArray(value) ? 'array' : typeof value)}: ${r.message}`));
    }
  }
  return out;
}
