// ESLint flat config: typescript-eslint's type-aware recommended rules over the TypeScript code,
// so that a floating promise, a promise where a callback is expected, or an `any` flowing out of
// a driver is an error (docs/decisions/0901-eslint-and-prettier.md). Formatting is Prettier's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.maillon/', 'fixtures/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `const { path: _p, ...rest } = row` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Objects here are literals built by closures (createX), never classes relying on `this`:
      // passing their methods around is safe, and the rule cannot tell them apart.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // AnyPipeline and the aggregation states are existential ("whatever the flow chose"): `any`
    // is their type; the engine reads them as unknown.
    files: ['src/engine/pipeline.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read rows and JSON to assert on them: a wrong shape fails the assertion that reads it,
    // so an `any` there hides nothing. Promises stay checked: an unawaited expectation passes
    // whatever it holds.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The entry points are plain JavaScript outside tsconfig.json: syntax rules only.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
);
