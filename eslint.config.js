import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CORE = resolve(dirname(fileURLToPath(import.meta.url)), 'src', 'core');

/**
 * The core boundary: a module under src/core may import packages and other src/core modules,
 * nothing else of this repository. Relative specifiers are resolved against the importing file,
 * so '../../bench/x' and '../state/store' are caught at any depth (no-restricted-imports only
 * matches the specifier's text).
 */
const coreBoundary = {
  rules: {
    'no-import-outside-core': {
      meta: {
        type: 'problem',
        schema: [],
        messages: { outside: "src/core must not import '{{spec}}': it resolves outside src/core ({{target}})." },
      },
      create(context) {
        const here = dirname(context.filename);
        const check = (source) => {
          if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
          const spec = source.value;
          if (!spec.startsWith('.') && !spec.startsWith('/')) return; // a package
          const target = resolve(here, spec);
          if (target !== CORE && !target.startsWith(CORE + sep)) {
            context.report({ node: source, messageId: 'outside', data: { spec, target: target.slice(resolve(CORE, '..', '..').length + 1) } });
          }
        };
        return {
          ImportDeclaration: (node) => check(node.source),
          ExportNamedDeclaration: (node) => check(node.source),
          ExportAllDeclaration: (node) => check(node.source),
          ImportExpression: (node) => check(node.source),
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'public/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    // The compute core must run unchanged in Node and in a Worker: no DOM, no UI, no store.
    files: ['src/core/**/*.ts'],
    plugins: { 'core-boundary': coreBoundary },
    rules: {
      'core-boundary/no-import-outside-core': 'error',
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'd3', 'd3-*', 'zustand'], message: 'src/core has no UI dependencies.' },
          { group: ['**/ui/**', '**/state/**', '**/worker/**'], message: 'src/core must not import UI, store or worker code.' },
        ],
      }],
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage', 'sessionStorage'],
    },
  },
);
