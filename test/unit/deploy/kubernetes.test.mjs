// The container image and the Kubernetes manifests (deploy/kubernetes/), checked offline: every object against
// Kubernetes' own schemas (kubernetes-models), every `tsray start` flag against the CLI's, the probes, the token
// Secret, the resource mapping, and the Dockerfile's base, files and command; then the head's and a worker's
// arguments from the manifests start a real head and node here, and the probes answer.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CLI, ROOT } from '../../helpers/components.mjs';
import { isolatedEnv, start } from '../../helpers/cluster.mjs';

const DIR = join(ROOT, 'deploy', 'kubernetes');
const run = promisify(execFile);
const load = (file) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS());
const kustomization = load('kustomization.yaml')[0];
const objects = [...kustomization.resources, 'autoscale.yaml'].flatMap(load);
const byName = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const containers = objects.filter((o) => o.kind === 'Deployment').map((d) => ({ d, c: d.spec.template.spec.containers[0] }));

/** Validates `o` against the schema of its apiVersion and kind (throws with the schema's complaint). */
async function validate(o) {
  const models = await import(`kubernetes-models/${o.apiVersion}`);
  const Model = models[o.kind];
  if (!Model) throw new Error(`no model for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

t.test('every object passes Kubernetes\' schemas; a broken one does not', async (t) => {
  t.ok(kustomization.resources.every((f) => existsSync(join(DIR, f))), 'the kustomization lists files that exist');
  t.same(objects.map((o) => o.kind).sort(), ['Deployment', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'Service']);
  for (const o of objects) await t.resolves(validate(o), `${o.kind} ${o.metadata.name}`);
  const broken = structuredClone(byName('Deployment', 'tsray-worker'));
  broken.spec.replicas = 'two';
  await t.rejects(validate(broken), 'replicas that are not a number fail validation');
  const noImage = structuredClone(byName('Deployment', 'tsray-head'));
  delete noImage.spec.template.spec.containers[0].name;
  await t.rejects(validate(noImage), 'a container without a name fails validation');
});

t.test('the containers pass only flags tsray start has, the token from a Secret, and their own resources', async (t) => {
  const help = (await run(process.execPath, [CLI, 'start', '--help'])).stdout;
  for (const { d, c } of containers) {
    const name = d.metadata.name;
    t.equal(c.args[0], 'start', `${name} runs tsray start`);
    const flags = c.args.slice(1).map((a) => a.split('=')[0]);
    const unknown = flags.filter((f) => !new RegExp(`(^|[ ,])${f}\\b`, 'm').test(help));
    t.same(unknown, [], `${name}: every flag is one tsray start --help lists (${flags.join(' ')})`);
    t.ok(c.args.includes('--block'), `${name} stays in the foreground, as a container's process must`);
    t.notOk(c.args.some((a) => a.startsWith('--token=')) || (c.env ?? []).some((e) => e.name === 'TSRAY_TOKEN'), `${name} has no token in its arguments or environment`);
    const tokenMount = c.volumeMounts.find((m) => c.args.includes(`--token-file=${m.mountPath}/token`));
    const tokenVolume = d.spec.template.spec.volumes.find((v) => v.name === tokenMount?.name);
    t.equal(tokenVolume?.secret?.secretName, 'tsray-token', `${name} reads the token from the tsray-token Secret`);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    const from = (v) => env[v]?.valueFrom?.resourceFieldRef;
    t.match(from('TSRAY_NUM_CPUS'), { containerName: c.name, resource: 'limits.cpu' }, `${name}: --num-cpus is its CPU limit`);
    t.ok(c.args.includes('--num-cpus=$(TSRAY_NUM_CPUS)'));
    t.match(from('TSRAY_MEMORY'), { containerName: c.name, resource: 'requests.memory' }, `${name}: --memory is its memory request`);
    const gib = Number(c.resources.limits.memory.replace(/Gi$/, '')) * 2 ** 30;
    const store = Number(env.TSRAY_OBJECT_STORE_MEMORY.value);
    t.ok(store > 0 && store <= gib / 2, `${name}: the object store (${store}) fits well within the memory limit (${gib})`);
    const gpus = c.resources.limits['nvidia.com/gpu'];
    const numGpus = c.args.find((a) => a.startsWith('--num-gpus='));
    t.equal(numGpus, gpus === undefined ? undefined : `--num-gpus=${gpus}`, `${name}: --num-gpus matches its nvidia.com/gpu limit`);
  }
});

t.test('the head: a Service for the cluster and dashboard ports, probes on /healthz and /readyz', async (t) => {
  const head = byName('Deployment', 'tsray-head');
  const c = head.spec.template.spec.containers[0];
  t.equal(head.spec.replicas, 1);
  t.equal(head.spec.strategy.type, 'Recreate', 'never two heads at once');
  t.match(c.readinessProbe.httpGet, { path: '/readyz', port: 'dashboard' });
  t.match(c.livenessProbe.httpGet, { path: '/healthz', port: 'dashboard' });
  const ports = Object.fromEntries(c.ports.map((p) => [p.name, p.containerPort]));
  t.same(ports, { cluster: 6380, dashboard: 8265 });
  t.ok(c.args.includes('--port=6380') && c.args.includes('--dashboard-port=8265'), 'the head listens where its ports say');
  const svc = byName('Service', 'tsray-head');
  t.same(svc.spec.selector, head.spec.selector.matchLabels, 'the Service selects the head');
  t.same(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[6380, 'cluster'], [8265, 'dashboard']]);
  const workers = byName('Deployment', 'tsray-worker').spec.template.spec.containers[0];
  t.ok(workers.args.includes(`--address=ws://${svc.metadata.name}:6380`), 'workers join through the Service');
  t.equal(byName('HorizontalPodAutoscaler', 'tsray-worker').spec.scaleTargetRef.name, 'tsray-worker');
});

t.test('the Dockerfile: node:20-slim, files that exist, and the CLI as its command', async (t) => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const from = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  t.same(from, ['node:20-slim', 'node:20-slim'], 'both stages on Node 20 slim');
  const copied = [...text.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)].flatMap((m) => m[1].split(/\s+/));
  t.same(copied.filter((p) => !existsSync(join(ROOT, p))), [], `every file it copies exists (${copied.join(' ')})`);
  const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(text)[1]);
  t.same(entry, ['node', '/opt/tsray/dist/host/cli/main.js'], 'it runs the CLI');
  t.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.tsray, 'dist/host/cli/main.js', 'which is the package\'s bin');
  t.same(JSON.parse(/^CMD (.+)$/m.exec(text)[1]).slice(0, 3), ['start', '--head', '--block']);
  t.match(text, /^USER node$/m, 'not as root');
  t.ok(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').includes('node_modules'), 'the build context leaves node_modules out');
});

t.test("the manifests' arguments start a head and a node here; the probes answer", async (t) => {
  const env = isolatedEnv('kubernetes');
  const dir = mkdtempSync(join(tmpdir(), 'tsray-k8s-'));
  writeFileSync(join(dir, 'token'), 'k8s-test-token\n', { mode: 0o600 });
  const vars = { TSRAY_NUM_CPUS: '1', TSRAY_MEMORY: String(2 ** 30), TSRAY_OBJECT_STORE_MEMORY: String(128 * 2 ** 20) };
  // As the kubelet expands them, with this machine's paths and free ports.
  const local = (args, more) => args.slice(1).map((a) => a.replace(/\$\((\w+)\)/g, (_, v) => vars[v])
    .replace('--token-file=/etc/tsray/token', `--token-file=${join(dir, 'token')}`).replace('--data-root=/data', `--data-root=${dir}`)
    .replace(/^--port=\d+$/, '--port=0').replace(/^--dashboard-port=\d+$/, '--dashboard-port=0')).filter((a) => a !== '--block').concat(more);
  const head = start(t, env, local(byName('Deployment', 'tsray-head').spec.template.spec.containers[0].args, []), /tsray dashboard at (http:\/\/\S+)/);
  const dashboard = (await head.ready)[1].replace('0.0.0.0', '127.0.0.1');
  let listening;
  for (let i = 0; i < 200 && !(listening = /listening at (ws:\/\/\S+)/.exec(head.output().out)); i++) await new Promise((r) => setTimeout(r, 50));
  const address = listening[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  t.equal((await fetch(`${dashboard}healthz`)).status, 200, 'liveness');
  t.equal((await fetch(`${dashboard}readyz`)).status, 200, 'readiness');
  const worker = byName('Deployment', 'tsray-worker').spec.template.spec.containers[0].args.map((a) => a.replace('ws://tsray-head:6380', address));
  const node = start(t, env, local(worker, []), /tsray node ([0-9a-f]{16}) joined/);
  t.match((await node.ready)[1], /^[0-9a-f]{16}$/, 'a worker joins with the worker Deployment\'s arguments');
});
