/**
 * Import rules from docs/architecture (kernel ← domain ← adapters, wired only in app.ts).
 * `npm run lint:deps` fails on any violation; it runs inside `make test`.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'kernel-is-leaf',
      comment: 'kernel/ imports only Node built-ins and other kernel files.',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { pathNot: ['^src/kernel/', '^node:', '^(fs|path|crypto|os|stream|events|util|buffer|url)$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-is-framework-free',
      comment:
        'domain/ imports kernel and itself only: no fastify, ws, pino, SQL drivers, node:http, adapters. ' +
        'One exception: the SSML parser uses fast-xml-parser (a pure, dependency-free XML parser; writing our own would be worse).',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        pathNot: ['^src/domain/', '^src/kernel/', '^node_modules/fast-xml-parser/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'xml-parser-only-in-ssml',
      severity: 'error',
      from: { path: '^src/domain/', pathNot: '^src/domain/synthesis/ssml\\.ts$' },
      to: { path: '^node_modules/fast-xml-parser/' },
    },
    {
      name: 'domain-no-http',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(node:)?(http|https|http2|net)$' },
    },
    {
      name: 'protocol-surfaces-are-independent',
      comment: 'protocol/<surface> may use protocol/http and protocol/shared, never another surface.',
      severity: 'error',
      from: { path: '^src/protocol/([^/]+)/' },
      to: { path: '^src/protocol/([^/]+)/', pathNot: ['^src/protocol/$1/', '^src/protocol/http/', '^src/protocol/shared/'] },
    },
    {
      name: 'protocol-not-to-adapters',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/(storage|engines|jobs|config|observability|cli|security)/|^src/app\\.ts$' },
    },
    {
      name: 'engines-only-ports-and-kernel',
      comment: 'engines/* use the engine contract (domain/ports) and kernel; not protocol, storage, services or each other.',
      severity: 'error',
      from: { path: '^src/engines/([^/]+)/' },
      to: {
        path: '^src/',
        pathNot: ['^src/engines/$1/', '^src/domain/ports/', '^src/kernel/'],
      },
    },
    {
      name: 'storage-only-ports-entities-kernel',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: {
        path: '^src/',
        pathNot: ['^src/storage/', '^src/domain/ports/', '^src/domain/[^/]+/[^/]+\\.ts$', '^src/kernel/'],
      },
    },
    {
      name: 'storage-no-domain-services',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: '^src/domain/.*-service\\.ts$' },
    },
    {
      name: 'security-only-ports-and-kernel',
      comment: 'security/ (token signing, admin token) implements domain ports with jose and Node crypto; nothing else.',
      severity: 'error',
      from: { path: '^src/security/' },
      to: { path: '^src/', pathNot: ['^src/security/', '^src/domain/ports/', '^src/kernel/'] },
    },
    {
      name: 'config-observability-only-kernel',
      severity: 'error',
      from: { path: '^src/(config|observability)/' },
      to: { path: '^src/', pathNot: ['^src/(config|observability)/', '^src/kernel/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-imports-roots',
      comment: 'app.ts and cli/ are composition roots; nothing below them imports them.',
      severity: 'error',
      from: { pathNot: '^src/(app\\.ts|cli/)' },
      to: { path: '^src/(app\\.ts|cli/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
