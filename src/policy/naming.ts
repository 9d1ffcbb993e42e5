// Role names derived from cluster, namespace and object name. Pure.
import { createHash } from 'node:crypto';

export const ROLE_NAME_MAX = 64;
const HASH_LENGTH = 8;

/**
 * `<prefix><cluster>.<namespace>.<name>`: namespaces and cluster names hold no dots, so the name is
 * unique per cluster/namespace/name. Characters IAM refuses become `-`. Over 64 characters, it is
 * cut and ends in `-` and 8 hex digits of a hash of the whole, so it stays unique and stable.
 */
export function deriveRoleName(prefix: string, cluster: string, namespace: string, name: string): string {
  const full = `${prefix}${cluster}.${namespace}.${name}`.replace(/[^\w+=,.@-]/g, '-');
  if (full.length <= ROLE_NAME_MAX) return full;
  const hash = createHash('sha256').update(`${prefix}\0${cluster}\0${namespace}\0${name}`).digest('hex');
  return `${full.slice(0, ROLE_NAME_MAX - HASH_LENGTH - 1)}-${hash.slice(0, HASH_LENGTH)}`;
}

/** The inline policy name the operator owns on each role. */
export const INLINE_POLICY_NAME = 'irsa-operator';
