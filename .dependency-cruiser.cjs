/**
 * The layers of tsray's source, lowest first. A module may import its own
 * layer and the layers below it, never one above, and no import may close a
 * circle. `npm test` runs this check (`npm run check:deps`).
 *
 * The store is a side layer: it imports only errors and utilities, and the
 * core and everything above may use it.
 */
const LAYERS = [
  ['util', '^host/(errors\\.ts|util/)'],
  ['wit', '^host/wit/'],
  ['abi', '^host/abi/'],
  ['files', '^host/files/'],
  ['engine', '^host/engine/'],
  ['accel', '^host/accel/'],
  ['component', '^host/component/'],
  ['toolchain', '^host/toolchain/'],
  ['store', '^store/'],
  ['core', '^host/core/'],
  ['worker', '^host/worker/'],
  ['node', '^host/node/'],
  ['cluster', '^host/cluster/'],
  ['dashboard', '^host/dashboard/'],
  ['api', '^host/api/'],
  ['data', '^host/data/'],
  ['entry', '^host/index\\.ts'],
  ['cli', '^host/cli/'],
];

const any = (patterns) => patterns.map((p) => `(${p})`).join('|');

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} may import only ${LAYERS.slice(0, i).map(([n]) => n).join(', ') || 'nothing of tsray'} and itself`,
  severity: 'error',
  from: { path },
  to: { path: any(LAYERS.slice(i + 1).map(([, p]) => p)) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import circles make the load order matter and the layers meaningless',
      severity: 'error',
      from: { path: '^(host|store)/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'store-imports-only-errors-and-utilities',
      comment: 'the store is usable by any runtime: it knows nothing of components, workers or the cluster',
      severity: 'error',
      from: { path: '^store/' },
      to: { path: '^host/', pathNot: '^host/(errors\\.ts|util/)' },
    },
    {
      name: 'below-the-store-no-store',
      comment: 'wit, abi, engine, component and the toolchain stand without an object store',
      severity: 'error',
      from: { path: '^host/(wit|abi|engine|component|toolchain|util)/|^host/errors\\.ts' },
      to: { path: '^store/' },
    },
    {
      name: 'device-backends-stand-alone',
      comment: 'a backend drives a device and nothing else: it knows no tasks, scopes, workers or wire (host/accel/backends/README.md)',
      severity: 'error',
      from: { path: '^host/accel/backends/' },
      to: { path: '^(host|store)/', pathNot: '^host/accel/(backends/|limits\\.ts)' },
    },
    {
      name: 'only-the-webgpu-backend-loads-dawn',
      comment: 'Dawn is an optional dependency loaded in the device thread only',
      severity: 'error',
      from: { pathNot: '^host/accel/backends/webgpu/' },
      to: { path: '^webgpu$', dependencyTypes: ['npm', 'npm-optional'] },
    },
    {
      name: 'worker-never-imports-the-network',
      comment: 'a worker thread runs guests; sockets belong to the cluster layer',
      severity: 'error',
      from: { path: '^host/(worker|engine|component|wit|abi|core)/|^store/' },
      to: { path: '^(ws|node:net|net|node:http|http|node:https|https|node:tls|tls)$', dependencyTypes: ['npm', 'core'] },
    },
    {
      name: 'accel-backends-npm-only-webgpu',
      comment: 'the only package a device backend loads is webgpu (Dawn), and only when a WebGPU device is opened',
      severity: 'error',
      from: { path: '^host/accel/backends/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'], pathNot: 'node_modules/(webgpu|@webgpu/types)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|test|bench|demo|guest)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
