// Pure finalizer list edits: the new list, or null when nothing changes (no write needed).

export function addFinalizer(list: readonly string[] | undefined, name: string): string[] | null {
  const current = list ?? [];
  return current.includes(name) ? null : [...current, name];
}

export function removeFinalizer(list: readonly string[] | undefined, name: string): string[] | null {
  const current = list ?? [];
  return current.includes(name) ? current.filter((f) => f !== name) : null;
}
