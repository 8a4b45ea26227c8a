/**
 * `wasi:filesystem`, served with no authority: there are no preopened
 * directories, so no descriptor ever reaches a guest. The `descriptor`
 * methods exist only because the glue needs the class; each fails with
 * `not-permitted` (thrown as the WIT payload, the call's `err`).
 */

/** Every `descriptor` method whose WIT result is `result<_, error-code>`. */
const DESCRIPTOR_METHODS = [
  'readViaStream', 'writeViaStream', 'appendViaStream', 'advise', 'syncData', 'getFlags', 'getType',
  'setSize', 'setTimes', 'read', 'write', 'readDirectory', 'sync', 'createDirectoryAt', 'stat', 'statAt',
  'setTimesAt', 'linkAt', 'openAt', 'readlinkAt', 'removeDirectoryAt', 'renameAt', 'symlinkAt',
  'unlinkFileAt', 'metadataHash', 'metadataHashAt',
];

function notPermitted(): never {
  throw 'not-permitted';
}

/** `wasi:filesystem/types.descriptor`: never handed out. */
export class Descriptor {
  isSameObject(other: Descriptor): boolean {
    return other === this;
  }
}
for (const m of DESCRIPTOR_METHODS) Object.defineProperty(Descriptor.prototype, m, { value: notPermitted });

/** `wasi:filesystem/types.directory-entry-stream`: never handed out. */
export class DirectoryEntryStream {
  readDirectoryEntry(): never { return notPermitted(); }
}

/** The `wasi:filesystem/types` and `wasi:filesystem/preopens` interfaces. */
export function filesystemImports(checkpoint: () => void): Record<string, Record<string, unknown>> {
  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      // Stream errors never carry a filesystem error: no stream reads or writes a file.
      filesystemErrorCode: () => { checkpoint(); return undefined; },
    },
    'wasi:filesystem/preopens': { getDirectories: (): never[] => { checkpoint(); return []; } },
  };
}
