/**
 * What a component's index spaces hold while its binary is evaluated: value
 * types (as shared objects, so a record named by one export is the same
 * record every function that uses it sees), function types, resources,
 * instances and nested components.
 */
import type { PrimitiveKind } from '../../wit/types.js';

/** A name a type received from the first import or export that named it. */
export interface Naming { name: string; owner: string }

export type ValNode =
  | { kind: PrimitiveKind }
  | { kind: 'record'; fields: [string, ValNode][]; naming?: Naming }
  | { kind: 'variant'; cases: [string, ValNode | undefined][]; naming?: Naming }
  | { kind: 'enum'; cases: string[]; naming?: Naming }
  | { kind: 'flags'; flags: string[]; naming?: Naming }
  | { kind: 'list'; elem: ValNode }
  | { kind: 'tuple'; types: ValNode[] }
  | { kind: 'option'; type: ValNode }
  | { kind: 'result'; ok?: ValNode; err?: ValNode }
  | { kind: 'own' | 'borrow'; resource: ResourceNode };

/** One resource type's identity. */
export interface ResourceNode { kind: 'resource'; naming?: Naming }

export interface FuncTypeNode { kind: 'func'; params: [string, ValNode][]; result?: ValNode }

/** An instance: its exports by name, in declaration order. */
export interface InstanceNode { kind: 'instance'; exports: Map<string, Entity> }

/** A nested component not yet instantiated: where its bytes are and the scope it closes over. */
export interface ComponentNode { kind: 'component'; start: number; end: number; parent: unknown }

export interface ComponentTypeNode { kind: 'component-type' }

export type TypeNode = ValNode | FuncTypeNode | ResourceNode | InstanceNode | ComponentTypeNode;

/** Where a lifted function's code is: an export of a core instance, and whether strings cross as UTF-8. */
export interface Lift { coreInstance: number; coreName: string; utf8: boolean }

export type Entity =
  | { sort: 'type'; type: TypeNode }
  | { sort: 'func'; type: FuncTypeNode; lift?: Lift }
  | { sort: 'instance'; instance: InstanceNode }
  | { sort: 'component'; component: ComponentNode | ComponentTypeNode }
  | { sort: 'other' };

export const PRIMITIVES: Record<number, PrimitiveKind> = {
  0x7f: 'bool', 0x7e: 's8', 0x7d: 'u8', 0x7c: 's16', 0x7b: 'u16', 0x7a: 's32', 0x79: 'u32',
  0x78: 's64', 0x77: 'u64', 0x76: 'f32', 0x75: 'f64', 0x74: 'char', 0x73: 'string',
};

export function isValNode(t: TypeNode): t is ValNode {
  return t.kind !== 'func' && t.kind !== 'resource' && t.kind !== 'instance' && t.kind !== 'component-type';
}
