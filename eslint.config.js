// @ts-check
// ESLint 9 flat config: typescript-eslint's type-checked rules over every TypeScript source.
// docs/architecture.md ("Boundaries CI enforces") says what each check is for. Run: `pnpm lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Test-side code: test files, test helpers and the private test packages. */
const TEST_FILES = [
  '**/*.test.ts',
  '**/*.contract.ts',
  'packages/*/test/**',
  'packages/*/src/testing/**',
  'packages/{testkit,e2e,bench,s3-test-server,test-data}/**',
];

export default tseslint.config(
  {
    // Build output, caches, the fetched OHIF dist and the test data files.
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.tap/**',
      'artifacts/**',
      'data/**',
      '.bench-cache/**',
      'packages/ohif/viewer/**',
      'packages/bench/tmp/**',
      'packages/e2e/.cache/**',
      'packages/test-data/dicom/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The root tsconfig.json covers packages/*/src, packages/*/test and migrations; the scripts
        // outside it are checked with the default project.
        projectService: { allowDefaultProject: ['packages/*/scripts/*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // TypeScript itself reports undefined names (and knows Node's globals through @types/node).
      'no-undef': 'off',
      // Fastify plugins and tap subtests are async by contract, whether or not they await.
      '@typescript-eslint/require-await': 'off',
      // A subtest's promise (t.test) is awaited by tap itself; every other promise must be handled.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `import()` in a type position is kept: a few modules name a type of a module they must not load.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // DICOM and XML 1.0 text checks match control characters on purpose.
      'no-control-regex': 'off',
      // A variable read in a callback before its one assignment (server.ts's app) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      // Tests read untyped JSON bodies (inject().json(), fetch().json()) and assert on them: a wrong
      // shape fails the assertion, which is the check these rules would otherwise ask for.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Assertion messages interpolate whatever came back; a poor stringification only blurs a message.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Cleanups are queued as plain functions (t.teardown(server.stop)); test helpers do not use `this`.
      '@typescript-eslint/unbound-method': 'off',
      // Tests feed numbers beyond double precision on purpose (DICOM JSON IS/DS edge cases).
      'no-loss-of-precision': 'off',
    },
  },
  {
    // Plain JavaScript (scripts run by node, child processes): no type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        module: 'readonly',
        require: 'readonly',
      },
    },
    rules: { '@typescript-eslint/consistent-type-imports': 'off', '@typescript-eslint/switch-exhaustiveness-check': 'off' },
  },
);
