/**
 * Reads the exports of a user's AssemblyScript file (with AssemblyScript's own
 * parser) and checks them against the WIT world, so a mismatch is reported at
 * the user's line with both signatures, not as an error in generated glue.
 */
import * as asc from 'assemblyscript';
import { camelCase, pascalCase } from '../abi/names.js';
import type { FuncDef, ResolvedWorld, WitType } from '../wit/types.js';
import { asType, isSdkType, normalizeAsType } from './astypes.js';
import { describeFunc } from '../wit/describe.js';

interface AsFunc { params: string[]; names: string[]; result: string; where: string }
interface AsClass { fields: Map<string, string>; methods: Map<string, AsFunc>; statics: Map<string, AsFunc>; ctor?: AsFunc; where: string }

export interface AsExports {
  funcs: Map<string, AsFunc>;
  classes: Map<string, AsClass>;
  enums: Map<string, { members: string[]; where: string }>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the AssemblyScript AST is untyped here */
export function readAsExports(file: string, text: string): { exports: AsExports; errors: string[] } {
  const program = asc.newProgram(asc.newOptions());
  asc.parse(program, text, file, true);
  const errors: string[] = [];
  for (let d = asc.nextDiagnostic(program); d; d = asc.nextDiagnostic(program)) {
    if (!asc.isError(d)) continue;
    /* eslint-disable-next-line @typescript-eslint/no-explicit-any */
    const range = (d as any).range;
    const at = range ? `${file}:${range.source.lineAt(range.start)}:${range.source.columnAt()}: ` : `${file}: `;
    errors.push(`${at}TS${d.code}: ${d.message}`);
  }
  const out: AsExports = { funcs: new Map(), classes: new Map(), enums: new Map() };
  const src = (program as any).sources.find((s: any) => !s.normalizedPath.startsWith('~lib'));
  if (!src) return { exports: out, errors };
  const where = (node: any): string => {
    const line = src.lineAt(node.range.start);
    return `${file}:${line}:${src.columnAt()}`;
  };
  const sig = (node: any): AsFunc => ({
    params: node.signature.parameters.map((p: any) => p.type.range.toString()),
    names: node.signature.parameters.map((p: any) => p.name.text),
    result: node.signature.returnType.range.toString(),
    where: where(node),
  });
  for (const st of src.statements) {
    if (!(st.flags & asc.CommonFlags.Export)) continue;
    if (st.kind === asc.NodeKind.FunctionDeclaration) out.funcs.set(st.name.text, sig(st));
    else if (st.kind === asc.NodeKind.EnumDeclaration) out.enums.set(st.name.text, { members: st.values.map((v: any) => v.name.text), where: where(st) });
    else if (st.kind === asc.NodeKind.ClassDeclaration) {
      const cls: AsClass = { fields: new Map(), methods: new Map(), statics: new Map(), where: where(st) };
      for (const m of st.members) {
        if (m.kind === asc.NodeKind.FieldDeclaration && m.type) cls.fields.set(m.name.text, m.type.range.toString());
        if (m.kind !== asc.NodeKind.MethodDeclaration || m.flags & asc.CommonFlags.Private) continue;
        if (m.flags & asc.CommonFlags.Constructor) cls.ctor = sig(m);
        else (m.flags & asc.CommonFlags.Static ? cls.statics : cls.methods).set(m.name.text, sig(m));
      }
      out.classes.set(st.name.text, cls);
    }
  }
  return { exports: out, errors };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function same(a: string, b: string): boolean {
  return normalizeAsType(a) === normalizeAsType(b);
}

/** Returns one diagnostic per export of `world` that `exports` lacks or declares differently. */
export function checkSignatures(world: ResolvedWorld, file: string, exports: AsExports): string[] {
  const problems: string[] = [];
  const seenTypes = new Set<string>();
  const owners = new Map<string, string>();

  const checkType = (t: WitType): void => {
    switch (t.kind) {
      case 'record': case 'flags': case 'variant': {
        if (isSdkType(t)) return;
        const name = pascalCase(t.name);
        if (seenTypes.has(name)) return;
        seenTypes.add(name);
        const cls = exports.classes.get(name);
        if (!cls) { problems.push(`${file}: WIT ${t.kind} '${t.name}' needs an exported class ${name}`); return; }
        const wanted: [string, string][] = t.kind === 'record' ? t.fields.map((f) => [camelCase(f.name), asType(f.type)])
          : t.kind === 'flags' ? t.flags.map((f) => [camelCase(f), 'bool'])
            : [['tag', 'i32'], ...t.cases.filter((c) => c.type).map((c): [string, string] => [camelCase(c.name), asType(c.type!)])];
        for (const [field, type] of wanted) {
          const have = cls.fields.get(field);
          const ok = have !== undefined && (same(have, type) || (t.kind === 'variant' && (field === 'tag' || same(have, `${type}|null`))));
          if (!ok) problems.push(`${cls.where}: class ${name} must have field '${field}: ${type}' for WIT ${t.kind} '${t.name}'${have ? ` (found '${have}')` : ''}`);
        }
        if (t.kind === 'record') t.fields.forEach((f) => checkType(f.type));
        if (t.kind === 'variant') t.cases.forEach((c) => c.type && checkType(c.type));
        return;
      }
      case 'enum': {
        const name = pascalCase(t.name);
        if (seenTypes.has(name)) return;
        seenTypes.add(name);
        const e = exports.enums.get(name);
        if (!e) problems.push(`${file}: WIT enum '${t.name}' needs an exported enum ${name} with ${t.cases.length} members in WIT order`);
        else if (e.members.length !== t.cases.length) problems.push(`${e.where}: enum ${name} has ${e.members.length} members, WIT enum '${t.name}' has ${t.cases.length}`);
        return;
      }
      case 'list': checkType(t.elem); return;
      case 'option': checkType(t.type); return;
      case 'tuple': t.types.forEach(checkType); return;
      case 'result': if (t.ok) checkType(t.ok); if (t.err) checkType(t.err); return;
      default:
    }
  };

  const checkFunc = (iface: string | undefined, f: FuncDef): void => {
    f.params.forEach((p) => checkType(p.type));
    if (f.result) checkType(f.result);
    const witParams = f.kind === 'method' ? f.params.slice(1) : f.params;
    const params = witParams.map((p) => asType(p.type));
    const result = f.kind === 'constructor' || !f.result ? 'void' : asType(f.result);
    const name = camelCase(f.shortName);
    const expected = `${f.kind === 'constructor' ? 'constructor' : name}(${witParams.map((p, i) => `${camelCase(p.name)}: ${params[i]}`).join(', ')})${f.kind === 'constructor' ? '' : `: ${result}`}`;
    const witText = `${iface ? iface + ': ' : ''}${describeFunc(f)}`;
    let found: AsFunc | undefined;
    let owner = file;
    if (f.kind === 'freestanding') {
      const prev = owners.get(name);
      if (prev !== undefined && prev !== (iface ?? '')) problems.push(`${file}: '${name}' is exported by both ${prev || 'the world'} and ${iface ?? 'the world'}; rename one`);
      owners.set(name, iface ?? '');
      found = exports.funcs.get(name);
    } else {
      const clsName = pascalCase(f.resource!.name);
      const cls = exports.classes.get(clsName);
      if (!cls) { problems.push(`${file}: WIT resource '${f.resource!.name}' needs an exported class ${clsName}`); return; }
      owner = cls.where;
      found = f.kind === 'constructor' ? cls.ctor ?? { params: [], names: [], result: '', where: cls.where } : (f.kind === 'static' ? cls.statics : cls.methods).get(name);
    }
    if (!found) {
      problems.push(`${owner}: missing export for WIT function ${witText}\n  expected AssemblyScript: ${f.kind === 'freestanding' ? 'export function ' : ''}${expected}`);
      return;
    }
    const resultOk = f.kind === 'constructor' || same(found.result, result);
    if (found.params.length !== params.length || !resultOk || found.params.some((p, i) => !same(p, params[i]!))) {
      const foundText = `${f.kind === 'constructor' ? 'constructor' : name}(${found.params.map((p, i) => `${found!.names[i]}: ${p}`).join(', ')})${f.kind === 'constructor' ? '' : `: ${found.result}`}`;
      problems.push(`${found.where}: '${name}' does not match its WIT function\n  WIT:      ${witText}\n  expected: ${expected}\n  found:    ${foundText}`);
    }
  };

  for (const item of world.exports) {
    if (item.kind === 'func') checkFunc(undefined, item.func);
    else for (const f of item.iface.funcs) checkFunc(item.name, f);
  }
  return problems;
}
