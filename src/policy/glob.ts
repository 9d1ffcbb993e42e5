// IAM-style globs (`*` any run, `?` one character), as the operator's policy and IAM's Action
// element use them. Pure.

export function globToRegExp(glob: string, flags = ''): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, flags);
}

export const matchesAny = (value: string, globs: readonly string[], flags = '') => globs.some((g) => globToRegExp(g, flags).test(value));
