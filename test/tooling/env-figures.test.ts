import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountsLine, recordFigures } from '../env/figures.ts';

describe('the accounts line from two test files', () => {
  it('is printed in the issue’s order once both parts are recorded, and not before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-figures-'));
    try {
      recordFigures(dir, 'accounts', {
        accounts: 2,
        cross_account_ready: 2,
        providers_created: 2,
        thumbprint_ok: 1,
        refused_account_caught: 2,
      });
      assert.equal(accountsLine(dir), undefined, 'multicluster.test.ts has not run');
      recordFigures(dir, 'multicluster', { multi_cluster_ready: 1, oversize_caught: 1, pattern_ready: 1, escapes_refused: 12 });
      assert.equal(
        accountsLine(dir),
        'accounts: accounts=2 cross_account_ready=2 providers_created=2 thumbprint_ok=1 multi_cluster_ready=1 oversize_caught=1 refused_account_caught=2',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
