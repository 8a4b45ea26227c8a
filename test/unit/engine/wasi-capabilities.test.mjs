// The capability contract (host/engine/wasi/capabilities.ts): which imports need which grant, which grants are refused and why.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const caps = await source('host/engine/wasi/capabilities.ts');
const { ComponentError } = await source('host/errors.ts');

// What a componentize-js guest with its default features imports.
const JS_GUEST_IMPORTS = [
  'wasi:io/poll@0.2.12', 'wasi:io/error@0.2.12', 'wasi:io/streams@0.2.12',
  'wasi:clocks/monotonic-clock@0.2.12', 'wasi:clocks/wall-clock@0.2.12', 'wasi:random/random@0.2.12',
  'wasi:cli/stdin@0.2.12', 'wasi:cli/stdout@0.2.12', 'wasi:cli/stderr@0.2.12',
  'wasi:cli/terminal-input@0.2.12', 'wasi:cli/terminal-output@0.2.12', 'wasi:cli/terminal-stdin@0.2.12',
  'wasi:cli/terminal-stdout@0.2.12', 'wasi:cli/terminal-stderr@0.2.12',
  'wasi:filesystem/types@0.2.12', 'wasi:filesystem/preopens@0.2.12',
  'wasi:http/types@0.2.10', 'wasi:http/outgoing-handler@0.2.10',
];

t.test('each import needs a grant, nothing, or is unknown', async (t) => {
  t.same(caps.capabilityOf('wasi:clocks/monotonic-clock@0.2.12'), { grant: 'wasi:clocks' });
  t.same(caps.capabilityOf('wasi:clocks/wall-clock'), { grant: 'wasi:clocks' });
  for (const i of ['random', 'insecure', 'insecure-seed']) t.same(caps.capabilityOf(`wasi:random/${i}@0.2.0`), { grant: 'wasi:random' });
  t.same(caps.capabilityOf('wasi:cli/stdout@0.2.12'), { grant: 'wasi:cli/stdout' });
  t.same(caps.capabilityOf('wasi:cli/stderr@0.2.0'), { grant: 'wasi:cli/stderr' });
  for (const i of ['wasi:io/streams', 'wasi:cli/stdin', 'wasi:cli/exit', 'wasi:cli/environment', 'wasi:cli/terminal-stdout',
    'wasi:filesystem/preopens', 'wasi:filesystem/types', 'wasi:http/types', 'wasi:http/outgoing-handler']) {
    t.same(caps.capabilityOf(`${i}@0.2.3`), { inert: true }, `${i} needs no grant`);
  }
  t.same(caps.capabilityOf('tsray:runtime/host'), { runtime: true });
  for (const i of ['wasi:sockets/tcp@0.2.0', 'wasi:keyvalue/store', 'ux:words/api', 'wasi:clocks']) t.same(caps.capabilityOf(i), { unknown: true }, i);
});

t.test('the grantable capabilities pass checkGrants', async (t) => {
  t.same(caps.checkGrants(['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr']), ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr']);
  t.same(caps.checkGrants([]), []);
});

t.test('filesystem, sockets, http and environment grants are refused, saying what to do instead', async (t) => {
  const cases = {
    'wasi:filesystem': /tasks get no files: pass the data as arguments or objects/,
    'wasi:filesystem/types': /tasks get no files/,
    'wasi:sockets': /tasks get no network/,
    'wasi:sockets/tcp': /tasks get no network/,
    'wasi:http': /tasks get no network: fetch the data in the driver/,
    'wasi:cli/environment': /tasks get no environment: pass settings as arguments/,
  };
  for (const [name, why] of Object.entries(cases)) {
    const err = t.throws(() => caps.checkGrants(['wasi:clocks', name]), name);
    t.ok(err instanceof ComponentError, `${name}: a ComponentError`);
    t.equal(err.code, 'ERR_CAPABILITY');
    t.match(err.message, `'${name}' is never granted`);
    t.match(err.message, why);
  }
});

t.test('unknown grant names are refused, with a hint where one helps; every problem is listed at once', async (t) => {
  const err = t.throws(() => caps.checkGrants(['wasi:clocks/wall-clock', 'wasi:io/streams', 'wasi:gpu', 42]));
  t.equal(err.code, 'ERR_CAPABILITY');
  t.match(err.message, /'wasi:clocks\/wall-clock' is not a capability name: grant 'wasi:clocks' for it/);
  t.match(err.message, /'wasi:io\/streams' needs no grant: leave it out/);
  t.match(err.message, /'wasi:gpu' is not a capability tsray knows/);
  t.match(err.message, /42 is not a capability name/);
  t.match(err.message, /may be granted: wasi:clocks, wasi:random, wasi:cli\/stdout, wasi:cli\/stderr/);
});

t.test('missingGrants lists each import that needs a grant not given, once, in order', async (t) => {
  t.same(caps.missingGrants(JS_GUEST_IMPORTS, []), [
    "wasi:clocks/monotonic-clock@0.2.12 (grant 'wasi:clocks')",
    "wasi:clocks/wall-clock@0.2.12 (grant 'wasi:clocks')",
    "wasi:random/random@0.2.12 (grant 'wasi:random')",
    "wasi:cli/stdout@0.2.12 (grant 'wasi:cli/stdout')",
    "wasi:cli/stderr@0.2.12 (grant 'wasi:cli/stderr')",
  ]);
  t.same(caps.missingGrants([...JS_GUEST_IMPORTS, 'wasi:cli/stderr@0.2.12'], new Set(['wasi:clocks', 'wasi:random', 'wasi:cli/stdout'])),
    ["wasi:cli/stderr@0.2.12 (grant 'wasi:cli/stderr')"]);
  t.same(caps.missingGrants(JS_GUEST_IMPORTS, caps.GRANTABLE), []);
});

t.test('unknownImports names what can never be served', async (t) => {
  t.same(caps.unknownImports(JS_GUEST_IMPORTS), []);
  t.same(caps.unknownImports(['tsray:runtime/host', 'wasi:sockets/tcp@0.2.0', 'ux:words/api', 'ux:words/api']), ['wasi:sockets/tcp@0.2.0', 'ux:words/api']);
});

t.test('checkImports refuses a component by default, listing each import and the option that grants them', async (t) => {
  const err = t.throws(() => caps.checkImports("component 'js-guest'", [...JS_GUEST_IMPORTS, 'wasi:sockets/tcp@0.2.0'], ['wasi:random']));
  t.equal(err.code, 'ERR_CAPABILITY');
  t.match(err.message, /^component 'js-guest' cannot run: it imports interfaces that need capabilities it was not granted:/);
  t.match(err.message, /\n {2}wasi:clocks\/monotonic-clock@0\.2\.12 \(grant 'wasi:clocks'\)\n {2}wasi:clocks\/wall-clock@0\.2\.12/);
  t.match(err.message, /grant them with \.options\(\{ capabilities: \['wasi:clocks', 'wasi:cli\/stdout', 'wasi:cli\/stderr'\] \}\)/);
  t.match(err.message, /tsray does not serve, so it can never run here:\n {2}wasi:sockets\/tcp@0\.2\.0/);
  t.doesNotThrow(() => caps.checkImports('x', JS_GUEST_IMPORTS, caps.GRANTABLE));
  t.doesNotThrow(() => caps.checkImports('x', ['tsray:runtime/host'], []));
});
