// The WASI host (host/engine/wasi/) called as jco's glue calls it, with a fake clock and log: stdio lines, clocks and
// pollables, random, the inert interfaces, and ungranted calls failing with the capability they need.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { source } from '../../helpers/source.mjs';

const wasi = await source('host/engine/wasi/index.ts');
const { ComponentError, TaskError } = await source('host/errors.ts');

const ALL = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'];
const enc = (s) => new TextEncoder().encode(s);

/** A host with a fake clock that `sleep` moves on, and every log line kept. */
function fake(granted = ALL, start = 1_700_000_000_000_000_000n) {
  const io = {
    clock: start, lines: [], sleeps: [], checkpoints: 0, cancelled: false,
    write(stream, text) { io.lines.push([stream, text]); },
    sleep(ms) { io.sleeps.push(ms); io.clock += BigInt(ms) * 1_000_000n; },
    checkpoint() { io.checkpoints++; if (io.cancelled) throw new Error('cancelled'); },
    now() { return io.clock; },
  };
  const host = wasi.wasiHost(new Set(granted), io);
  return { io, host, i: host.imports };
}

function capabilityError(t, fn, capability) {
  const err = t.throws(fn);
  t.ok(err instanceof ComponentError, 'a ComponentError');
  t.equal(err.code, 'ERR_CAPABILITY');
  t.match(err.message, `needs the capability '${capability}', which this task was not granted`);
  t.match(err.message, `.options({ capabilities: ['${capability}'] })`);
}

t.test('a refused or unknown grant is refused when the host is made', async (t) => {
  for (const name of ['wasi:filesystem', 'wasi:sockets', 'wasi:http', 'wasi:cli/environment', 'wasi:nope']) {
    t.throws(() => fake([name]), { code: 'ERR_CAPABILITY' }, name);
  }
});

t.test('every interface a componentize-js guest imports is served, each function defined', async (t) => {
  const { i } = fake([]);
  const need = {
    'wasi:io/poll': ['Pollable', 'poll'], 'wasi:io/error': ['Error'], 'wasi:io/streams': ['InputStream', 'OutputStream'],
    'wasi:clocks/monotonic-clock': ['now', 'resolution', 'subscribeDuration', 'subscribeInstant'], 'wasi:clocks/wall-clock': ['now', 'resolution'],
    'wasi:random/random': ['getRandomBytes', 'getRandomU64'], 'wasi:random/insecure': ['getInsecureRandomBytes', 'getInsecureRandomU64'],
    'wasi:random/insecure-seed': ['insecureSeed'],
    'wasi:cli/stdin': ['getStdin'], 'wasi:cli/stdout': ['getStdout'], 'wasi:cli/stderr': ['getStderr'],
    'wasi:cli/terminal-input': ['TerminalInput'], 'wasi:cli/terminal-output': ['TerminalOutput'],
    'wasi:cli/terminal-stdin': ['getTerminalStdin'], 'wasi:cli/terminal-stdout': ['getTerminalStdout'], 'wasi:cli/terminal-stderr': ['getTerminalStderr'],
    'wasi:cli/exit': ['exit'], 'wasi:cli/environment': ['getEnvironment', 'getArguments', 'initialCwd'],
    'wasi:filesystem/types': ['Descriptor', 'filesystemErrorCode'], 'wasi:filesystem/preopens': ['getDirectories'],
    'wasi:http/types': ['Fields', 'FutureIncomingResponse', 'IncomingBody', 'IncomingRequest', 'IncomingResponse', 'OutgoingBody',
      'OutgoingRequest', 'OutgoingResponse', 'RequestOptions', 'ResponseOutparam'],
    'wasi:http/outgoing-handler': ['handle'],
  };
  for (const [iface, names] of Object.entries(need)) {
    for (const n of names) t.type(i[iface]?.[n], 'function', `${iface}.${n}`);
  }
  const served = Object.keys(i).filter((k) => !('unknown' in wasi.capabilityOf(k)));
  t.same(served, Object.keys(i), 'the contract knows every interface served');
});

t.test('stdout and stderr become log lines: split at newlines, UTF-8 across writes, long lines in pieces, the rest at flush', async (t) => {
  const { io, host, i } = fake();
  const out = i['wasi:cli/stdout'].getStdout();
  t.ok(out instanceof i['wasi:io/streams'].OutputStream, 'an instance of the class passed to the glue');
  t.equal(out.checkWrite(), BigInt(wasi.STDIO_WRITE_BYTES));
  out.blockingWriteAndFlush(enc('one\ntw'));
  out.write(enc('o\r\nthree '));
  const euro = enc('€');
  out.write(euro.subarray(0, 1));
  out.write(euro.subarray(1));
  out.blockingFlush();
  i['wasi:cli/stderr'].getStderr().write(enc('oops\n'));
  t.same(io.lines, [['stdout', 'one'], ['stdout', 'two'], ['stderr', 'oops']], 'an unfinished line waits, even through flush');
  host.flush();
  t.same(io.lines.at(-1), ['stdout', 'three €']);
  io.lines.length = 0;
  out.write(new Uint8Array(wasi.STDIO_LINE_CHARS * 2 + 5).fill(0x61));
  host.flush();
  t.same(io.lines.map(([, l]) => l.length), [wasi.STDIO_LINE_CHARS, wasi.STDIO_LINE_CHARS, 5], 'a long line is passed on in pieces');
  io.lines.length = 0;
  out.writeZeroes(2n);
  t.throws(() => out.writeZeroes(BigInt(wasi.STDIO_WRITE_BYTES + 1)), TaskError, 'more zeroes than check-write permits');
  t.same(i['wasi:cli/stdout'].getStdout(), out, 'one stream per instance');
  t.ok(out.subscribe().ready(), 'stdio is always ready');
  t.throws(() => out.splice(i['wasi:cli/stdin'].getStdin(), 10n), { tag: 'closed' }, 'nothing to splice: stdin is at its end');
});

t.test('ungranted authority fails with the capability it needs, even when called', async (t) => {
  const { io, i } = fake([]);
  const out = i['wasi:cli/stdout'].getStdout();
  capabilityError(t, () => out.blockingWriteAndFlush(enc('x\n')), 'wasi:cli/stdout');
  capabilityError(t, () => out.checkWrite(), 'wasi:cli/stdout');
  capabilityError(t, () => i['wasi:cli/stderr'].getStderr().write(enc('x\n')), 'wasi:cli/stderr');
  capabilityError(t, () => i['wasi:clocks/monotonic-clock'].now(), 'wasi:clocks');
  capabilityError(t, () => i['wasi:clocks/monotonic-clock'].subscribeDuration(5n), 'wasi:clocks');
  capabilityError(t, () => i['wasi:clocks/wall-clock'].now(), 'wasi:clocks');
  capabilityError(t, () => i['wasi:random/random'].getRandomBytes(8n), 'wasi:random');
  capabilityError(t, () => i['wasi:random/random'].getRandomU64(), 'wasi:random');
  capabilityError(t, () => i['wasi:random/insecure'].getInsecureRandomU64(), 'wasi:random');
  capabilityError(t, () => i['wasi:random/insecure-seed'].insecureSeed(), 'wasi:random');
  t.same(io.lines, [], 'nothing was written');
});

t.test('clocks read io.now: the monotonic clock never goes back, the wall clock splits seconds', async (t) => {
  const { io, i } = fake();
  const mono = i['wasi:clocks/monotonic-clock'];
  const t0 = mono.now();
  t.equal(t0, io.clock);
  io.clock -= 5_000_000_000n;
  t.equal(mono.now(), t0, 'held still when io.now goes back');
  io.clock = t0 + 7n;
  t.equal(mono.now(), t0 + 7n);
  t.equal(mono.resolution(), 1000n);
  io.clock = 1_700_000_001_250_000_000n;
  t.same(i['wasi:clocks/wall-clock'].now(), { seconds: 1_700_000_001n, nanoseconds: 250_000_000 });
  t.same(i['wasi:clocks/wall-clock'].resolution(), { seconds: 0n, nanoseconds: 1000 });
});

t.test('pollables wait through io.sleep in bounded slices; poll returns the ready ones', async (t) => {
  const { io, i } = fake();
  const mono = i['wasi:clocks/monotonic-clock'];
  const { poll, Pollable } = i['wasi:io/poll'];
  const p = mono.subscribeDuration(2_500_000_000n);
  t.ok(p instanceof Pollable);
  t.notOk(p.ready());
  p.block();
  t.same(io.sleeps, [wasi.SLEEP_SLICE_MS, wasi.SLEEP_SLICE_MS, 500], 'slept 2.5 s in slices of at most SLEEP_SLICE_MS');
  t.ok(p.ready());
  io.sleeps.length = 0;
  const soon = mono.subscribeDuration(1_500_000n);
  const later = mono.subscribeInstant(mono.now() + 9_000_000n);
  t.same([...poll([later, soon])], [1], 'waits for the first, returns the ready ones');
  t.same(io.sleeps, [2], 'rounded up to whole milliseconds');
  t.same([...poll([later, i['wasi:cli/stdin'].getStdin().subscribe(), soon])], [1, 2]);
  t.throws(() => poll([]), TaskError, 'polling nothing traps');
  const forever = mono.subscribeDuration(2n ** 64n - 1n);
  io.sleep = (ms) => { io.sleeps.push(ms); io.cancelled = true; };
  t.throws(() => forever.block(), /cancelled/, 'a cancel ends the wait');
});

t.test('random: bytes from a cryptographic source, at most MAX_RANDOM_BYTES per call', async (t) => {
  const { i } = fake();
  const r = i['wasi:random/random'];
  const a = r.getRandomBytes(32n);
  t.ok(a instanceof Uint8Array);
  t.equal(a.length, 32);
  t.notSame(a, r.getRandomBytes(32n));
  t.equal(r.getRandomBytes(BigInt(wasi.MAX_RANDOM_BYTES)).length, wasi.MAX_RANDOM_BYTES);
  for (const len of [BigInt(wasi.MAX_RANDOM_BYTES + 1), 2n ** 64n - 1n]) {
    const err = t.throws(() => r.getRandomBytes(len));
    t.ok(err instanceof TaskError, 'a TaskError');
    t.match(err.message, `asked for ${len} random bytes; at most ${wasi.MAX_RANDOM_BYTES}`);
  }
  t.throws(() => i['wasi:random/insecure'].getInsecureRandomBytes(BigInt(wasi.MAX_RANDOM_BYTES + 1)), TaskError);
  t.type(r.getRandomU64(), 'bigint');
  t.equal(i['wasi:random/insecure'].getInsecureRandomBytes(3n).length, 3);
  const seed = i['wasi:random/insecure-seed'].insecureSeed();
  t.same(i['wasi:random/insecure-seed'].insecureSeed(), seed, 'one seed per instance');
});

t.test('the inert interfaces confer nothing: no stdin, terminal, environment, files or network; exit ends the task', async (t) => {
  const { i } = fake();
  const stdin = i['wasi:cli/stdin'].getStdin();
  t.throws(() => stdin.read(10n), { tag: 'closed' });
  t.throws(() => stdin.blockingRead(10n), { tag: 'closed' });
  t.equal(i['wasi:cli/terminal-stdin'].getTerminalStdin(), undefined);
  t.equal(i['wasi:cli/terminal-stdout'].getTerminalStdout(), undefined);
  t.equal(i['wasi:cli/terminal-stderr'].getTerminalStderr(), undefined);
  t.same(i['wasi:cli/environment'].getEnvironment(), []);
  t.same(i['wasi:cli/environment'].getArguments(), []);
  t.equal(i['wasi:cli/environment'].initialCwd(), undefined);
  const exit = t.throws(() => i['wasi:cli/exit'].exit({ tag: 'err' }));
  t.ok(exit instanceof TaskError);
  t.match(exit.message, /called exit with a failure status/);
  t.same(i['wasi:filesystem/preopens'].getDirectories(), []);
  const { Descriptor } = i['wasi:filesystem/types'];
  const d = Object.create(Descriptor.prototype);
  for (const m of ['openAt', 'stat', 'readViaStream', 'readDirectory']) t.throws(() => d[m](), 'not-permitted', m);
  t.equal(i['wasi:filesystem/types'].filesystemErrorCode({}), undefined);
});

t.test('http: a request can be built, and handle refuses it without leaving the host', async (t) => {
  const { i } = fake();
  const { Fields, OutgoingRequest, OutgoingBody } = i['wasi:http/types'];
  const headers = Fields.fromList([['Content-Type', enc('text/plain')]]);
  headers.append('x-a', enc('1'));
  t.ok(headers.has('content-type'));
  t.same(headers.get('X-A'), [enc('1')]);
  t.same(headers.clone().entries().length, 2);
  const req = new OutgoingRequest(headers);
  req.setMethod({ tag: 'post' });
  req.setAuthority('example.com');
  t.same(req.method(), { tag: 'post' });
  const body = req.body();
  t.ok(body instanceof OutgoingBody);
  body.write().blockingWriteAndFlush(enc('payload'));
  t.throws(() => req.body(), 'the body is handed out once');
  OutgoingBody.finish(body, undefined);
  t.throws(() => i['wasi:http/outgoing-handler'].handle(req, undefined), { tag: 'HTTP-request-denied' });
  t.throws(() => headers.append('big', new Uint8Array(wasi.HTTP_FIELDS_BYTES)), { tag: 'forbidden' }, 'fields are bounded');
});

t.test('no ambient authority: the WASI host imports nothing but crypto, errors and itself, and reads no process state', async (t) => {
  const dir = new URL('../../../host/engine/wasi/', import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const [, spec] of text.matchAll(/\bfrom '([^']+)'/g)) {
      t.ok(spec === 'node:crypto' || spec === '../../errors.js' || /^\.\/[\w-]+\.js$/.test(spec), `${f} imports ${spec}`);
    }
    t.notMatch(text, /\bprocess\.[a-z]|\brequire\(|\bimport\(/, `${f} reads no process state and loads nothing`);
  }
});
