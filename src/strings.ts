// The strings that long-lived caches keep, kept small. JSON.parse gives every object its own copy
// of every value: at 9,000 cached objects the heap held 21,430 copies of one policy ARN, 8,928 of
// the OIDC provider's ARN, 10,032 of "irsa.dev/v1alpha1" and one per object of each condition type
// and reason (a heap snapshot; docs/benchmarks.md). And a string built by concatenation is kept by
// V8 as a tree of its parts until something flattens it: a condition message held for a drift
// period cost twice its length.

/** Strings longer than this are not pooled: long values (messages, documents) are rarely repeated. */
const POOLED_MAX_LENGTH = 200;

/**
 * One copy of each string seen recently. Bounded: when full it starts again, so values seen once
 * (names, UIDs, resourceVersions) cannot grow it, and values many objects share are back in it
 * after the next object that has them.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();
  private readonly maxEntries: number;

  constructor(maxEntries = 4096) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.strings.size;
  }

  /** The pool's copy of `s` (`s` itself the first time it is seen). */
  intern(s: string): string {
    if (s.length > POOLED_MAX_LENGTH) return s;
    const found = this.strings.get(s);
    if (found !== undefined) return found;
    if (this.strings.size >= this.maxEntries) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  /**
   * `value` with each string in it (values, not keys: JSON.parse already shares those) replaced
   * by the pool's copy. Arrays and objects are changed in place: call it on a value this process
   * has just parsed and no one else holds.
   */
  share<T>(value: T): T {
    if (typeof value === 'string') return this.intern(value) as T;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.share(value[i] as unknown);
    } else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = this.share(record[key]);
    }
    return value;
  }
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
