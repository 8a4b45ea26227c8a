/**
 * `wasi:http/types` and `wasi:http/outgoing-handler`, served with no
 * authority: a guest may build a request (headers, method, body), and
 * `handle` refuses every one with `HTTP-request-denied` before anything
 * leaves the host. Bodies written are dropped; one `fields` holds at most
 * `HTTP_FIELDS_BYTES`. The incoming types are never handed out.
 */
import { HTTP_FIELDS_BYTES } from './capabilities.js';
import type { WasiContext } from './context.js';
import { OutputStream } from './streams.js';

// WIT payloads, thrown so that jco's glue returns them as the call's `err`.
const DENIED = Object.freeze({ tag: 'HTTP-request-denied' as const });
const FORBIDDEN = Object.freeze({ tag: 'forbidden' as const });
const UNIT_ERR = undefined;

type Entry = [string, Uint8Array];

/** `wasi:http/types.fields`: headers or trailers, names compared without case. */
export class Fields {
  #entries: Entry[] = [];
  #bytes = 0;

  static fromList(entries: Entry[]): Fields {
    const f = new Fields();
    for (const [name, value] of entries) f.append(name, value);
    return f;
  }

  get(name: string): Uint8Array[] {
    const key = name.toLowerCase();
    return this.#entries.filter(([n]) => n === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.#entries.some(([n]) => n === key);
  }

  set(name: string, values: Uint8Array[]): void {
    this.delete(name);
    for (const v of values) this.append(name, v);
  }

  delete(name: string): void {
    const key = name.toLowerCase();
    for (const [n, v] of this.#entries) if (n === key) this.#bytes -= n.length + v.length;
    this.#entries = this.#entries.filter(([n]) => n !== key);
  }

  append(name: string, value: Uint8Array): void {
    const size = name.length + value.length;
    if (this.#bytes + size > HTTP_FIELDS_BYTES) throw FORBIDDEN;
    this.#entries.push([name.toLowerCase(), value.slice()]);
    this.#bytes += size;
  }

  entries(): Entry[] {
    return this.#entries.map(([n, v]) => [n, v.slice()]);
  }

  clone(): Fields {
    return Fields.fromList(this.#entries);
  }
}

/** Makes the `outgoing-body` class, whose stream drops what is written to it. */
function outgoingBody(ctx: WasiContext) {
  return class OutgoingBody {
    #taken = false;

    write(): OutputStream {
      ctx.io.checkpoint();
      if (this.#taken) throw UNIT_ERR;
      this.#taken = true;
      return new OutputStream(ctx, () => {});
    }

    static finish(_body: OutgoingBody, _trailers: Fields | undefined): void {
      ctx.io.checkpoint();
    }
  };
}

type Body = InstanceType<ReturnType<typeof outgoingBody>>;

/** What outgoing requests and responses share: headers and a body handed out once. */
class Outgoing {
  readonly #headers: Fields;
  readonly #body: () => Body;
  #bodyTaken = false;

  constructor(headers: Fields, body: () => Body) {
    this.#headers = headers;
    this.#body = body;
  }

  headers(): Fields { return this.#headers; }

  body(): Body {
    // Handed out once, as the WIT says; the unit `err` is thrown as `undefined`.
    if (this.#bodyTaken) throw UNIT_ERR;
    this.#bodyTaken = true;
    return this.#body();
  }
}

/** The `wasi:http/types` and `wasi:http/outgoing-handler` interfaces. */
export function httpImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const OutgoingBody = outgoingBody(ctx);
  type Method = { tag: string; val?: string };
  type Scheme = { tag: string; val?: string };

  class OutgoingRequest extends Outgoing {
    #method: Method = { tag: 'get' };
    #path: string | undefined;
    #scheme: Scheme | undefined;
    #authority: string | undefined;
    constructor(headers: Fields) { super(headers, () => new OutgoingBody()); }
    method(): Method { return this.#method; }
    setMethod(m: Method): void { this.#method = m; }
    pathWithQuery(): string | undefined { return this.#path; }
    setPathWithQuery(p: string | undefined): void { this.#path = p; }
    scheme(): Scheme | undefined { return this.#scheme; }
    setScheme(s: Scheme | undefined): void { this.#scheme = s; }
    authority(): string | undefined { return this.#authority; }
    setAuthority(a: string | undefined): void { this.#authority = a; }
  }

  class OutgoingResponse extends Outgoing {
    #status = 200;
    constructor(headers: Fields) { super(headers, () => new OutgoingBody()); }
    statusCode(): number { return this.#status; }
    setStatusCode(code: number): void { this.#status = code; }
  }

  class RequestOptions {
    #timeouts: Record<'connect' | 'firstByte' | 'betweenBytes', bigint | undefined> = { connect: undefined, firstByte: undefined, betweenBytes: undefined };
    connectTimeout(): bigint | undefined { return this.#timeouts.connect; }
    setConnectTimeout(d: bigint | undefined): void { this.#timeouts.connect = d; }
    firstByteTimeout(): bigint | undefined { return this.#timeouts.firstByte; }
    setFirstByteTimeout(d: bigint | undefined): void { this.#timeouts.firstByte = d; }
    betweenBytesTimeout(): bigint | undefined { return this.#timeouts.betweenBytes; }
    setBetweenBytesTimeout(d: bigint | undefined): void { this.#timeouts.betweenBytes = d; }
  }

  // Only an incoming handler is given these; a task never is one.
  class ResponseOutparam { static set(): void { ctx.io.checkpoint(); } }
  // Never handed out: `handle` refuses before a response could exist.
  class IncomingRequest {}
  class IncomingResponse {}
  class IncomingBody {}
  class FutureIncomingResponse {}
  class FutureTrailers {}

  return {
    'wasi:http/types': {
      Fields, OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam,
      IncomingRequest, IncomingResponse, IncomingBody, FutureIncomingResponse, FutureTrailers,
      httpErrorCode: () => { ctx.io.checkpoint(); return undefined; },
    },
    'wasi:http/outgoing-handler': {
      handle: (_request: OutgoingRequest, _options: RequestOptions | undefined): never => {
        ctx.io.checkpoint();
        throw DENIED;
      },
    },
  };
}
