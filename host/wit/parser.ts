/**
 * WIT text -> unresolved syntax tree, one file at a time. Longer than 400
 * lines because it is one recursive-descent parser over the whole WIT grammar
 * (packages, interfaces, worlds, every type form): splitting it would scatter
 * the grammar.
 */
import { KEYWORDS, SourceText, tokenize, type Token } from './lexer.js';
import { MAX_TYPE_DEPTH } from './limits.js';

/** A type as written, before names are resolved. */
export type TypeExpr =
  | { kind: 'named'; name: string; pos: number }
  | { kind: 'list' | 'option' | 'own' | 'borrow'; arg: TypeExpr; pos: number }
  | { kind: 'tuple'; args: TypeExpr[]; pos: number }
  | { kind: 'result'; ok?: TypeExpr; err?: TypeExpr; pos: number };

export interface FuncSyntax {
  name: string;
  kind: 'freestanding' | 'constructor' | 'method' | 'static';
  params: { name: string; type: TypeExpr }[];
  result?: TypeExpr;
  pos: number;
}

export type TypeDefSyntax =
  | { kind: 'alias'; name: string; type: TypeExpr; pos: number }
  | { kind: 'record'; name: string; fields: { name: string; type: TypeExpr }[]; pos: number }
  | { kind: 'variant'; name: string; cases: { name: string; type?: TypeExpr }[]; pos: number }
  | { kind: 'enum'; name: string; cases: string[]; pos: number }
  | { kind: 'flags'; name: string; flags: string[]; pos: number }
  | { kind: 'resource'; name: string; funcs: FuncSyntax[]; pos: number };

/** `iface`, `ns:pkg/iface` or `ns:pkg/iface@1.0.0`. */
export interface PathSyntax { pkg?: string; name: string; version?: string; pos: number }

export interface UseSyntax { from: PathSyntax; names: { name: string; as?: string; pos: number }[]; pos: number }

export interface InterfaceBody {
  types: TypeDefSyntax[];
  funcs: FuncSyntax[];
  uses: UseSyntax[];
}

export interface InterfaceSyntax extends InterfaceBody { name: string; pos: number; src: SourceText }

export type WorldItemSyntax =
  | { dir: 'import' | 'export'; kind: 'func'; name: string; func: FuncSyntax; pos: number }
  | { dir: 'import' | 'export'; kind: 'inline'; name: string; body: InterfaceBody; pos: number }
  | { dir: 'import' | 'export'; kind: 'path'; path: PathSyntax; pos: number };

export interface WorldSyntax extends InterfaceBody {
  name: string;
  items: WorldItemSyntax[];
  includes: PathSyntax[];
  pos: number;
  src: SourceText;
}

export interface PackageSyntax {
  /** `ns:name`, plus `@version` when declared. */
  name: string;
  interfaces: InterfaceSyntax[];
  worlds: WorldSyntax[];
}

export interface FileSyntax {
  src: SourceText;
  /** The package the file's top level belongs to (absent when the file has no header). */
  pkg?: PackageSyntax;
  /** `package a:b { ... }` blocks nested in the file. */
  nested: PackageSyntax[];
  /** Byte range of the top-level `package x:y;` header, so a build can rewrite it. */
  header?: { start: number; end: number };
}

class Parser {
  private i = 0;
  /** Type expressions open around the current token, bounded so deep nesting cannot exhaust the stack. */
  private depth = 0;
  private readonly toks: Token[];
  constructor(private readonly src: SourceText) {
    this.toks = tokenize(src);
  }

  private peek(k = 0): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]!; }
  private next(): Token { return this.toks[this.i++]!; }
  private is(text: string, k = 0): boolean { const t = this.peek(k); return t.kind !== 'eof' && t.text === text; }
  private eat(text: string): boolean { if (this.is(text)) { this.i++; return true; } return false; }
  private fail(t: Token, msg: string): never { throw this.src.error(t.pos, msg); }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || t.kind === 'eof') this.fail(t, `expected '${text}', found '${t.text}'`);
    return t;
  }
  private ident(what = 'an identifier'): Token {
    const t = this.next();
    if (t.kind !== 'id') this.fail(t, `expected ${what}, found '${t.text}'`);
    if (KEYWORDS.has(t.text) && !t.escaped) this.fail(t, `expected ${what}, found keyword '${t.text}' (write %${t.text} to use it as a name)`);
    return t;
  }

  /** Skips `@since(...)`, `@unstable(...)`, `@deprecated(...)` gates. */
  private attributes(): void {
    while (this.is('@') && this.peek(1).kind === 'id' && this.peek(2).text === '(') {
      this.i += 3;
      let depth = 1;
      while (depth > 0) {
        const t = this.next();
        if (t.kind === 'eof') this.fail(t, 'unterminated attribute');
        if (t.text === '(') depth++;
        else if (t.text === ')') depth--;
      }
    }
  }

  private version(): string {
    // A semver is lexed as several tokens; glue the adjacent ones back together.
    let v = '';
    let end = this.peek().pos;
    while (this.peek().kind !== 'eof' && this.peek().pos === end && !['{', ';', '}', ',', '/'].includes(this.peek().text)) {
      if (this.peek().text === '.' && this.peek(1).text === '{') break;
      const t = this.next();
      v += t.text;
      end = t.pos + t.text.length;
    }
    if (!v) this.fail(this.peek(), 'expected a version after @');
    return v;
  }

  private packageName(): string {
    const ns = this.ident('a package namespace').text;
    this.expect(':');
    let name = this.ident('a package name').text;
    while (this.is(':')) { this.next(); name += ':' + this.ident().text; }
    let full = `${ns}:${name}`;
    if (this.eat('@')) full += '@' + this.version();
    return full;
  }

  private path(): PathSyntax {
    const pos = this.peek().pos;
    const first = this.ident('an interface name').text;
    if (!this.is(':')) return { name: first, pos };
    this.next();
    const pkgName = this.ident('a package name').text;
    this.expect('/');
    const name = this.ident('an interface name').text;
    const out: PathSyntax = { pkg: `${first}:${pkgName}`, name, pos };
    if (this.eat('@')) out.version = this.version();
    return out;
  }

  file(): FileSyntax {
    const out: FileSyntax = { src: this.src, nested: [] };
    let top: PackageSyntax | undefined;
    this.attributes();
    if (this.is('package')) {
      const start = this.peek().pos;
      this.next();
      const name = this.packageName();
      if (this.is('{')) {
        this.next();
        out.nested.push(this.packageBody(name, true));
      } else {
        const semi = this.expect(';');
        top = { name, interfaces: [], worlds: [] };
        out.header = { start, end: semi.pos + 1 };
      }
    }
    const anon: PackageSyntax = top ?? { name: '', interfaces: [], worlds: [] };
    while (this.peek().kind !== 'eof') {
      this.attributes();
      if (this.is('package')) {
        this.next();
        const name = this.packageName();
        this.expect('{');
        out.nested.push(this.packageBody(name, true));
        continue;
      }
      this.topItem(anon);
    }
    if (top) out.pkg = top;
    else if (anon.interfaces.length || anon.worlds.length) out.pkg = anon;
    return out;
  }

  private packageBody(name: string, braced: boolean): PackageSyntax {
    const pkg: PackageSyntax = { name, interfaces: [], worlds: [] };
    while (!(braced && this.is('}'))) {
      if (this.peek().kind === 'eof') this.fail(this.peek(), `expected '}' to close package ${name}`);
      this.attributes();
      this.topItem(pkg);
    }
    this.expect('}');
    return pkg;
  }

  private topItem(pkg: PackageSyntax): void {
    const t = this.peek();
    if (this.eat('interface')) {
      const name = this.ident('an interface name');
      pkg.interfaces.push({ name: name.text, pos: name.pos, src: this.src, ...this.interfaceBody() });
    } else if (this.eat('world')) {
      const name = this.ident('a world name');
      pkg.worlds.push(this.worldBody(name.text, name.pos));
    } else if (this.eat('use')) {
      // Top-level `use a:b/c;` only names an interface for this file; resolution uses full paths.
      this.path();
      if (this.eat('as')) this.ident();
      this.expect(';');
    } else {
      this.fail(t, `expected 'interface', 'world', 'package' or 'use', found '${t.text}'`);
    }
  }

  private interfaceBody(): InterfaceBody {
    const body: InterfaceBody = { types: [], funcs: [], uses: [] };
    this.expect('{');
    while (!this.eat('}')) {
      if (this.peek().kind === 'eof') this.fail(this.peek(), "expected '}'");
      this.attributes();
      if (!this.bodyItem(body)) {
        const name = this.ident('a function or type definition');
        this.expect(':');
        body.funcs.push(this.func(name.text, 'freestanding', name.pos));
      }
    }
    return body;
  }

  /** Parses a `use` or a type definition into `body`; false when the next item is neither. */
  private bodyItem(body: InterfaceBody): boolean {
    const t = this.peek();
    switch (t.text) {
      case 'use': {
        this.next();
        const from = this.path();
        this.expect('.');
        this.expect('{');
        const names: UseSyntax['names'] = [];
        do {
          if (this.is('}')) break;
          const n = this.ident('a type name');
          const item: UseSyntax['names'][number] = { name: n.text, pos: n.pos };
          if (this.eat('as')) item.as = this.ident().text;
          names.push(item);
        } while (this.eat(','));
        this.expect('}');
        this.expect(';');
        body.uses.push({ from, names, pos: t.pos });
        return true;
      }
      case 'type': {
        if (this.peek(1).kind !== 'id' || this.peek(2).text !== '=') return false;
        this.next();
        const name = this.ident();
        this.expect('=');
        body.types.push({ kind: 'alias', name: name.text, type: this.type(), pos: name.pos });
        this.expect(';');
        return true;
      }
      case 'record': case 'variant': case 'enum': case 'flags': case 'resource': {
        if (this.peek(1).kind !== 'id' || this.peek(2).text === ':') return false;
        this.next();
        const name = this.ident();
        body.types.push(this.typeDef(t.text, name.text, name.pos));
        return true;
      }
      default:
        return false;
    }
  }

  private typeDef(kw: string, name: string, pos: number): TypeDefSyntax {
    if (kw === 'resource') {
      const funcs: FuncSyntax[] = [];
      if (this.eat(';')) return { kind: 'resource', name, funcs, pos };
      this.expect('{');
      while (!this.eat('}')) {
        this.attributes();
        const t = this.peek();
        if (this.eat('constructor')) {
          funcs.push({ ...this.funcSig('constructor', t.pos, false), name: 'constructor' });
          continue;
        }
        const fname = this.ident('a method name');
        this.expect(':');
        const isStatic = this.eat('static');
        funcs.push(this.func(fname.text, isStatic ? 'static' : 'method', fname.pos));
      }
      return { kind: 'resource', name, funcs, pos };
    }
    this.expect('{');
    const items: { name: string; type?: TypeExpr }[] = [];
    while (!this.is('}')) {
      const n = this.ident(kw === 'record' ? 'a field name' : 'a case name');
      const item: { name: string; type?: TypeExpr } = { name: n.text };
      if (kw === 'record') { this.expect(':'); item.type = this.type(); }
      else if (kw === 'variant' && this.eat('(')) { item.type = this.type(); this.expect(')'); }
      items.push(item);
      if (!this.eat(',')) break;
    }
    this.expect('}');
    if (items.length === 0) this.fail(this.peek(), `${kw} ${name} must have at least one ${kw === 'record' ? 'field' : 'case'}`);
    switch (kw) {
      case 'record': return { kind: 'record', name, fields: items.map((f) => ({ name: f.name, type: f.type! })), pos };
      case 'variant': return { kind: 'variant', name, cases: items, pos };
      case 'enum': return { kind: 'enum', name, cases: items.map((c) => c.name), pos };
      default: return { kind: 'flags', name, flags: items.map((c) => c.name), pos };
    }
  }

  private func(name: string, kind: FuncSyntax['kind'], pos: number): FuncSyntax {
    if (this.is('async')) this.fail(this.peek(), 'async functions are not supported');
    this.expect('func');
    return { ...this.funcSig(kind, pos, true), name };
  }

  private funcSig(kind: FuncSyntax['kind'], pos: number, allowResult: boolean): Omit<FuncSyntax, 'name'> {
    this.expect('(');
    const params: FuncSyntax['params'] = [];
    while (!this.is(')')) {
      const n = this.ident('a parameter name');
      this.expect(':');
      params.push({ name: n.text, type: this.type() });
      if (!this.eat(',')) break;
    }
    this.expect(')');
    const out: Omit<FuncSyntax, 'name'> = { kind, params, pos };
    if (this.is('->')) {
      const arrow = this.next();
      if (!allowResult) this.fail(arrow, 'a constructor has no result type');
      if (this.is('(')) this.fail(this.peek(), 'named results are not supported; return a tuple or record');
      out.result = this.type();
    }
    this.expect(';');
    return out;
  }

  type(): TypeExpr {
    if (this.depth >= MAX_TYPE_DEPTH) this.fail(this.peek(), `types nest deeper than ${MAX_TYPE_DEPTH} levels`);
    this.depth++;
    try {
      return this.typeExpr();
    } finally {
      this.depth--;
    }
  }

  private typeExpr(): TypeExpr {
    const t = this.peek();
    if (t.kind !== 'id') this.fail(t, `expected a type, found '${t.text}'`);
    this.next();
    const one = (kind: 'list' | 'option' | 'own' | 'borrow'): TypeExpr => {
      this.expect('<');
      const arg = this.type();
      this.expect('>');
      return { kind, arg, pos: t.pos };
    };
    switch (t.text) {
      case 'list': case 'option': case 'own': case 'borrow':
        if (!this.is('<')) break;
        return one(t.text);
      case 'tuple': {
        if (!this.is('<')) break;
        this.next();
        const args: TypeExpr[] = [];
        while (!this.is('>')) { args.push(this.type()); if (!this.eat(',')) break; }
        this.expect('>');
        return { kind: 'tuple', args, pos: t.pos };
      }
      case 'result': {
        const out: TypeExpr = { kind: 'result', pos: t.pos };
        if (!this.eat('<')) return out;
        if (this.eat('_')) { this.expect(','); out.err = this.type(); }
        else { out.ok = this.type(); if (this.eat(',')) out.err = this.type(); }
        this.expect('>');
        return out;
      }
    }
    return { kind: 'named', name: t.text, pos: t.pos };
  }

  private worldBody(name: string, pos: number): WorldSyntax {
    const w: WorldSyntax = { name, pos, src: this.src, items: [], includes: [], types: [], funcs: [], uses: [] };
    this.expect('{');
    while (!this.eat('}')) {
      if (this.peek().kind === 'eof') this.fail(this.peek(), `expected '}' to close world ${name}`);
      this.attributes();
      const t = this.peek();
      if (t.text === 'import' || t.text === 'export') {
        this.next();
        const dir = t.text;
        if (this.peek(1).text === ':' && this.peek(2).text !== '' && this.peek().kind === 'id' && (this.peek(2).text === 'func' || this.peek(2).text === 'interface' || this.peek(2).text === 'async')) {
          const n = this.ident();
          this.expect(':');
          if (this.eat('interface')) {
            w.items.push({ dir, kind: 'inline', name: n.text, body: this.interfaceBody(), pos: n.pos });
          } else {
            w.items.push({ dir, kind: 'func', name: n.text, func: this.func(n.text, 'freestanding', n.pos), pos: n.pos });
          }
        } else {
          const path = this.path();
          this.expect(';');
          w.items.push({ dir, kind: 'path', path, pos: path.pos });
        }
      } else if (this.eat('include')) {
        w.includes.push(this.path());
        if (this.is('with')) this.fail(this.peek(), "'include ... with' is not supported");
        this.expect(';');
      } else if (!this.bodyItem(w)) {
        this.fail(t, `expected 'import', 'export', 'include', 'use' or a type definition, found '${t.text}'`);
      }
    }
    return w;
  }
}

/** Parses one WIT file. Throws `WitError` naming file, line and column. */
export function parseWitFile(file: string, text: string): FileSyntax {
  return new Parser(new SourceText(file, text)).file();
}
