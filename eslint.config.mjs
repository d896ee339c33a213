import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.timebox/**', 'infra/cdk.out/**', 'infra/node_modules/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Slack's packages through their public entry points only: a path into a package (e.g.
      // @slack/bolt/dist/App) breaks the day it ships an exports map. (src/domain and src/app,
      // below, forbid every outside import, these included.)
      'no-restricted-imports': ['error', { patterns: [{ regex: '^@slack/[^/]+/.', message: 'Import @slack/* packages by name only (their public entry points), never a path inside them.' }] }],
    },
  },
  // The layers point inward (docs/ARCHITECTURE.md): the domain imports nothing but itself; use
  // cases import only the domain. Anything else there is a missing port.
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./)', message: 'src/domain imports nothing outside src/domain (no I/O, no SDKs).' }] }],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./|\\.\\./domain/)', message: 'src/app imports only src/domain and itself; reach the outside through a port in app/ports.ts.' }] }],
    },
  },
);
