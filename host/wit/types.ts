/**
 * The resolved WIT model: what a world imports and exports, with every named
 * type reference already replaced by its definition. Both the guest binding
 * generator and the host engines read only this model.
 */

export type PrimitiveKind =
  | 'bool' | 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 's64' | 'u64'
  | 'f32' | 'f64' | 'char' | 'string';

export interface PrimitiveType { kind: PrimitiveKind }
export interface ListType { kind: 'list'; elem: WitType }
/** `owner` is the interface (or `$root`) that declares the record. */
export interface RecordType { kind: 'record'; name: string; owner?: string; fields: Field[] }
export interface TupleType { kind: 'tuple'; types: WitType[] }
export interface VariantType { kind: 'variant'; name: string; cases: Case[] }
export interface EnumType { kind: 'enum'; name: string; cases: string[] }
export interface FlagsType { kind: 'flags'; name: string; flags: string[] }
export interface OptionType { kind: 'option'; type: WitType }
export interface ResultType { kind: 'result'; ok?: WitType; err?: WitType }
export interface HandleType { kind: 'own' | 'borrow'; resource: ResourceDef }

export type WitType =
  | PrimitiveType | ListType | RecordType | TupleType | VariantType | EnumType
  | FlagsType | OptionType | ResultType | HandleType;

export interface Field { name: string; type: WitType }
export interface Case { name: string; type?: WitType }
export interface Param { name: string; type: WitType }

/** A resource type; `owner` is the interface (or `$root`) that defines it. */
export interface ResourceDef { name: string; owner: string }

export type FuncKind = 'freestanding' | 'constructor' | 'method' | 'static';

export interface FuncDef {
  /** The canonical WIT name: `sum`, `[constructor]counter`, `[method]counter.incr`. */
  name: string;
  kind: FuncKind;
  /** The plain name a user writes: `sum`, `incr`; `constructor` for constructors. */
  shortName: string;
  resource?: ResourceDef;
  params: Param[];
  result?: WitType;
}

export interface InterfaceDef {
  /** How the world names it: `ns:pkg/iface` (with `@version`), or the plain key of an inline interface. */
  name: string;
  funcs: FuncDef[];
  resources: ResourceDef[];
  /** Named types declared in the interface, by WIT name. */
  types: Map<string, WitType>;
}

export type WorldItem =
  | { kind: 'func'; name: string; func: FuncDef }
  | { kind: 'interface'; name: string; iface: InterfaceDef };

export interface ResolvedWorld {
  /** `ns:pkg` of the world's package. */
  packageName: string;
  name: string;
  imports: WorldItem[];
  exports: WorldItem[];
}

/** The scope name of world-level items, as the canonical ABI spells it. */
export const ROOT = '$root';
