// ESLint for the TypeScript sources and tests (`make lint`, part of `make test`). Prettier
// owns the layout (.prettierrc.json); ESLint owns correctness, size and the import layers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// What ships: the two packages' sources (testkit, the tests' and bench's stand-in, does not).
const PRODUCTION = ['packages/compactor/src/**/*.ts', 'packages/log-reader/src/**/*.ts'];
const TESTS = ['**/*.test.ts'];

/** Files in `folder` may not import from the layers above it (`above`, sibling folder names). */
function layer(pkg, folder, above) {
  return {
    files: [`packages/${pkg}/src/${folder}/**/*.ts`],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...above.map((name) => ({
              group: [`../${name}`, `../${name}/*`, `../../${name}/*`],
              message: `${pkg}/src/${folder}/ sits below ${name}/: imports run from cli/ down to the layout, never upward.`,
            })),
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      '**/bundle/',
      '.tools/',
      '.tmp/',
      'coverage/',
      'bench/results/',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Prettier wraps code at 120; this catches what it cannot wrap: comments.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
    },
  },
  {
    files: PRODUCTION,
    ignores: TESTS,
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
    },
  },
  // Tests use what a consumer can import: the packages' entries, never a file inside them.
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/packages/*/src/**', '**/packages/*/dist/**'],
              message:
                'Import the package entry (@platform/log-reader[/layout|/s3|/kube-config|/cli], compactor, @platform/testkit).',
            },
          ],
        },
      ],
    },
  },
  layer('compactor', 'store', ['cli', 'pass', 'inspect', 'kube']),
  layer('compactor', 'kube', ['cli', 'pass', 'inspect']),
  layer('compactor', 'pass', ['cli', 'inspect']),
  layer('compactor', 'inspect', ['cli']),
  layer('log-reader', 'layout', ['cli', 'read', 'live', 's3']),
  layer('log-reader', 's3', ['cli', 'read', 'live']),
  layer('log-reader', 'live', ['cli']),
  layer('log-reader', 'read', ['cli']),
);
