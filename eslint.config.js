// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'test/env/kube/', 'test/env/etcd/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      // @kubernetes/client-node's models are classes of plain data; object literals are how its docs build them.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Small functions with one job: the controller's parts and the shell stay readable.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
      // AGPL-3.0 policy oracles: dev-only, for tests; src/ is what the image ships.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['@cloud-copilot/iam-simulate', '@cloud-copilot/iam-expand'].map((name) => ({
            name,
            message: 'AGPL-3.0: a dev-only oracle for tests (package.json devDependencies); never imported from src/',
          })),
        },
      ],
    },
  },
  {
    // node:assert's assertion functions narrow types, which makes later optional chains look needless.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
);
