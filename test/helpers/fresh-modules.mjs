// Hand-made core modules that try to carry state from one task to the next; each exports `bump: func() -> s32`.
import { CORE_BASICS } from './wat-components.mjs';

const mod = (body) => `(module\n    ${CORE_BASICS}\n    ${body})`;
const FUNCS = `(type $r (func (result i32)))
    (func $one (result i32) i32.const 1)
    (func $two (result i32) i32.const 2)`;

/** name -> { wat, fresh: the value every task must see } */
export const STATEFUL = {
  'a mutable global that is not exported': {
    fresh: 1,
    wat: mod(`(global $n (mut i32) (i32.const 0))
    (func (export "bump") (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))`),
  },
  'a mutable funcref global': {
    fresh: 0,
    wat: mod(`${FUNCS}
    (elem declare func $one)
    (global $g (mut funcref) (ref.null func))
    (func (export "bump") (result i32)
      (if (result i32) (ref.is_null (global.get $g))
        (then (global.set $g (ref.func $one)) (i32.const 0))
        (else (i32.const 1))))`),
  },
  'a table entry set by table.set': {
    fresh: 1,
    wat: mod(`${FUNCS}
    (table $t 2 funcref)
    (elem (i32.const 0) $one $two)
    (func (export "bump") (result i32)
      (call_indirect (type $r) (i32.const 0))
      (table.set $t (i32.const 0) (ref.func $two)))`),
  },
  'a table grown by table.grow': {
    fresh: 3,
    wat: mod(`(table $t 2 funcref)
    (func (export "bump") (result i32) (drop (table.grow $t (ref.null func) (i32.const 1))) (table.size $t))`),
  },
  'a passive data segment dropped by data.drop': {
    fresh: 42,
    wat: mod(`(data $d "\\2a\\00\\00\\00")
    (func (export "bump") (result i32)
      (memory.init $d (i32.const 0) (i32.const 0) (i32.const 4))
      (data.drop $d)
      (i32.load (i32.const 0)))`),
  },
  'a passive element segment dropped by elem.drop': {
    fresh: 1,
    wat: mod(`${FUNCS}
    (table $t 2 funcref)
    (elem $e func $one)
    (func (export "bump") (result i32)
      (table.init $t $e (i32.const 1) (i32.const 0) (i32.const 1))
      (elem.drop $e)
      (call_indirect (type $r) (i32.const 1)))`),
  },
  'a mutable v128 global (which JavaScript cannot read)': {
    fresh: 0,
    wat: mod(`(global $v (mut v128) (v128.const i32x4 0 0 0 0))
    (func (export "bump") (result i32)
      (i32x4.extract_lane 0 (global.get $v))
      (global.set $v (v128.const i32x4 5 0 0 0)))`),
  },
  'memory grown by memory.grow': {
    fresh: 2,
    wat: mod(`(func (export "bump") (result i32) (drop (memory.grow (i32.const 1))) (memory.size))`),
  },
  'memory written above its initial contents': {
    fresh: 0,
    wat: mod(`(func (export "bump") (result i32) (i32.load (i32.const 60000)) (i32.store (i32.const 60000) (i32.const 7)))`),
  },
};
