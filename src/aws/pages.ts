// IAM's list calls page with Marker and IsTruncated: every page of one, in order, each handed over
// as it comes (a sweep of the account keeps only the roles it wants, not every page).

export interface IamPage {
  IsTruncated?: boolean | undefined;
  Marker?: string | undefined;
}

/** Fetches page after page (`fetch(undefined)` first) until IAM says there is no more. */
export async function forEachPage<P extends IamPage>(
  fetch: (marker: string | undefined) => Promise<P>,
  each: (page: P) => void,
): Promise<void> {
  let marker: string | undefined;
  do {
    const page = await fetch(marker);
    each(page);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
}
