// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/dist-test/**', '**/node_modules/**', '.stack/**', 'stack/opensearch/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // process.env is read only by the config package (one zod schema per service).
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through @tally/config (loadConfig).' },
      ],
      // A build output is not an interface: it may be stale, and jest maps @tally/* to the sources.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tally/*/dist', '@tally/*/dist/**'],
              message: "Import the package's root or an `exports` subpath (@tally/counter/binding), never its dist.",
            },
          ],
        },
      ],
      // The same for import() and require(), which no-restricted-imports does not see.
      'no-restricted-syntax': [
        'error',
        ...['ImportExpression > Literal.source', "CallExpression[callee.name='require'] > Literal.arguments"].map((node) => ({
          selector: `${node}[value=/^@tally\\/[^/]+\\/dist(\\/|$)/]`,
          message: "Import the package's root or an `exports` subpath (@tally/counter/binding), never its dist.",
        })),
      ],
    },
  },
  // Tests and benchmarks start services with their own environment; the rule guards services.
  { files: ['packages/config/src/**', 'tests/**', 'bench/**'], rules: { 'no-restricted-properties': 'off' } },
  {
    files: ['**/*.js', '**/*.cjs', 'scripts/**/*.mjs'],
    languageOptions: {
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Layout is prettier's (npm run lint checks it): the style rules that would fight it are off.
  prettier,
);
