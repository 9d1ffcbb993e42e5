// The strings that long-lived caches keep, kept small. JSON.parse gives every object its own copy
// of every value: at 9,000 cached objects the heap held 21,430 copies of one policy ARN, 8,928 of
// the OIDC provider's ARN, 10,032 of "irsa.dev/v1alpha1" and one per object of each condition type
// and reason (a heap snapshot; docs/benchmarks.md). And a string built by concatenation is kept by
// V8 as a tree of its parts until something flattens it: a condition message held for a drift
// period cost twice its length.

/** Strings longer than this are not pooled: long values (messages, documents) are rarely repeated. */
const POOLED_MAX_LENGTH = 200;

/**
 * Arrays and objects longer than this (in JSON, about) are not pooled. The longest value worth
 * sharing is a cached ServiceAccount's managedFields, reduced to the operator's apply entry
 * (kube/applied.ts): about 330 characters with the webhook's four annotations.
 */
const POOLED_NODE_MAX_LENGTH = 512;

/**
 * One copy of each string, and of each small array and object, seen recently. Bounded: when full
 * it starts again, so values seen once (names, UIDs, resourceVersions) cannot grow it, and values
 * many objects share are back in it after the next object that has them.
 *
 * Arrays and objects are shared when their JSON is short: at 10,000 cached objects each had its
 * own `["irsa.dev/finalizer"]`, its own list of attached policy ARNs and each ServiceAccount its own
 * copy of the operator's apply entry (about 290 bytes; 2.2 MB at 7,500 ServiceAccounts). A
 * shared array or object is frozen: caches are read-only, and one written through would change
 * every object holding it, so writing to one throws instead.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();
  private readonly nodes = new Map<string, object>();
  private readonly maxEntries: number;
  private readonly maxNodes: number;
  /** What identifies the value the last shareValue() call gave back, when it is small enough to pool. */
  private lastKey: string | undefined;

  /**
   * Fewer arrays and objects than strings: each is held with a key about as long as its JSON, and
   * most (an object's metadata, its conditions) are seen once; the shared ones are back in the
   * pool after the next object that has them.
   */
  constructor(maxEntries = 4096, maxNodes = 1024) {
    this.maxEntries = maxEntries;
    this.maxNodes = maxNodes;
  }

  /** Strings and arrays or objects held. */
  get size(): number {
    return this.strings.size + this.nodes.size;
  }

  /** The pool's copy of `s` (`s` itself the first time it is seen). */
  intern(s: string): string {
    return s.length > POOLED_MAX_LENGTH ? s : pooled(this.strings, this.maxEntries, s, s);
  }

  /**
   * `value` with each string in it (values, not keys: JSON.parse already shares those) replaced
   * by the pool's copy, and each small array or object by the pool's frozen copy of an equal one.
   * What is not replaced is changed in place: call it on a value this process has just parsed and
   * no one else holds. JSON values only (what the apiserver sends).
   */
  share<T>(value: T): T {
    return this.shareValue(value, false) as T;
  }

  /** `value` shared; the value itself replaced by a pooled equal one only when `pooled`. */
  private shareValue(value: unknown, pooled = true): unknown {
    // Keys: an encoding of the value that no other value has (strings prefixed with their length,
    // numbers ended by ';'); cheaper than JSON.stringify for each string.
    if (typeof value === 'string') {
      const s = this.intern(value);
      this.lastKey = s.length > POOLED_MAX_LENGTH ? undefined : `${s.length}"${s}`;
      return s;
    }
    if (typeof value !== 'object' || value === null) {
      this.lastKey = `${typeof value === 'number' ? 'n' : ''}${String(value)};`;
      return value;
    }
    let key: string | undefined;
    if (Array.isArray(value)) {
      key = '[';
      for (let i = 0; i < value.length; i++) {
        value[i] = this.shareValue(value[i]);
        key = this.joined(key, '');
      }
      key = key === undefined ? undefined : `${key}]`;
    } else {
      const record = value as Record<string, unknown>;
      key = '{';
      for (const name of Object.keys(record)) {
        record[name] = this.shareValue(record[name]);
        key = this.joined(key, `${name.length}:${name}`);
      }
      key = key === undefined ? undefined : `${key}}`;
    }
    return pooled ? this.node(value, key) : value;
  }

  /** `key` + `prefix` + the last value's key, or undefined once the result is too long to pool. */
  private joined(key: string | undefined, prefix: string): string | undefined {
    if (key === undefined || this.lastKey === undefined) return undefined;
    const next = key + prefix + this.lastKey;
    return next.length > POOLED_NODE_MAX_LENGTH ? undefined : next;
  }

  /** The pool's frozen copy of `value`, identified by `key` (not pooled when undefined). */
  private node(value: object, key: string | undefined): object {
    this.lastKey = key;
    return key === undefined ? value : pooled(this.nodes, this.maxNodes, key, value, Object.freeze);
  }
}

/**
 * The value `pool` holds under `key`, or `value` (as `keep` leaves it) now held there; a pool
 * already holding `bound` entries starts again.
 */
function pooled<V>(pool: Map<string, V>, bound: number, key: string, value: V, keep: (v: V) => V = (v) => v): V {
  const found = pool.get(key);
  if (found !== undefined) return found;
  if (pool.size >= bound) pool.clear();
  const kept = keep(value);
  pool.set(key, kept);
  return kept;
}

/**
 * `s` as one flat string of its own, with the same characters, for a cache that keeps it a long
 * time. A string built from parts is a tree of them; a slice of a longer string (every value the
 * AWS XML parser reads, aws/xml-parser.ts) keeps all of that string alive while it lives. JSON
 * gives a new copy of any string; V8 makes neither trees nor slices under 13 characters.
 */
export function flatString(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
