/**
 * Just enough of the WebAssembly binary format to validate a component's
 * envelope, find the core modules inside it and read or add custom sections.
 */
import { ComponentError } from '../errors.js';
import { MAX_METADATA_BYTES } from '../wit/limits.js';
import { readU32, writeU32 } from '../util/leb128.js';
import type { Section } from '../engine/core-sections.js';

/** Custom section holding tsray's metadata: the world name and its full WIT text. */
export const METADATA_SECTION = 'tsray:wit';

export interface Metadata { world: string; wit: string }

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

export type { Section };

/** Checks the header and walks the top-level sections of a component. */
export function componentSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ComponentError('not a WebAssembly binary (bad magic number)');
  }
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 0) {
    throw new ComponentError('this is a core WebAssembly module, not a component: build it with `tsray build`');
  }
  if (layer !== 1) throw new ComponentError(`unknown WebAssembly layer ${layer}`);
  const sections: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const [size, start] = readU32(bytes, pos);
    const end = start + size;
    if (end > bytes.length) throw new ComponentError(`malformed component: section ${id} at byte ${pos - 1} runs past the end`);
    sections.push({ id, start, end });
    pos = end;
  }
  return sections;
}

const SECTION_CUSTOM = 0;
const SECTION_CORE_MODULE = 1;
const SECTION_COMPONENT = 4;

function customName(bytes: Uint8Array, s: Section): { name: string; data: number } {
  const [len, p] = readU32(bytes, s.start);
  return { name: new TextDecoder().decode(bytes.subarray(p, p + len)), data: p + len };
}

export interface ComponentParts {
  coreModules: Uint8Array[];
  nestedComponents: number;
  metadata?: Metadata;
}

export function componentParts(bytes: Uint8Array): ComponentParts {
  const parts: ComponentParts = { coreModules: [], nestedComponents: 0 };
  for (const s of componentSections(bytes)) {
    if (s.id === SECTION_CORE_MODULE) parts.coreModules.push(bytes.subarray(s.start, s.end));
    else if (s.id === SECTION_COMPONENT) parts.nestedComponents++;
    else if (s.id === SECTION_CUSTOM) {
      const { name, data } = customName(bytes, s);
      if (name === METADATA_SECTION) parts.metadata = decodeMetadata(bytes.subarray(data, s.end));
    }
  }
  return parts;
}

export function appendCustomSection(bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const payload = [...writeU32(nameBytes.length), ...nameBytes];
  const size = writeU32(payload.length + data.length);
  const out = new Uint8Array(bytes.length + 1 + size.length + payload.length + data.length);
  out.set(bytes);
  let p = bytes.length;
  out[p++] = SECTION_CUSTOM;
  out.set(size, p); p += size.length;
  out.set(payload, p); p += payload.length;
  out.set(data, p);
  return out;
}

export function encodeMetadata(m: Metadata): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

function decodeMetadata(data: Uint8Array): Metadata {
  if (data.length > MAX_METADATA_BYTES) {
    throw new ComponentError(`${METADATA_SECTION} section is ${data.length} bytes, above the limit of ${MAX_METADATA_BYTES}`);
  }
  try {
    const m = JSON.parse(new TextDecoder().decode(data)) as Metadata;
    if (typeof m.world === 'string' && typeof m.wit === 'string') return m;
  } catch { /* reported below */ }
  throw new ComponentError(`malformed ${METADATA_SECTION} section`);
}
