// ESLint's recommended rules and typescript-eslint's, with the few project choices below.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'perf/results/**', 'coverage/**', 'docker/.context/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // The dashboard page's script runs in the browser as a classic script.
    files: ['src/api/dashboard/static/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
  {
    // Test fixtures written as a user's CommonJS app would be.
    files: ['test/**/fixtures/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      // Unused names are errors, except the conventional `_`-prefixed placeholders.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // A `catch {}` must say why it swallows: no silent catch.
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
);
