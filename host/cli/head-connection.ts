/** How CLI commands that ask a cluster's head reach it: the options they share and one connection per command. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { connect } from '../cluster/connect.js';
import type { Peer } from '../cluster/peer.js';
import { records } from '../cluster/process-records.js';
import { readTls } from '../cluster/tls.js';
import { tokenFor } from './start.js';

export interface HeadOptions {
  address?: string;
  token?: string;
  tokenFile?: string;
  tlsCa?: string;
}

/** Adds `--address`, `--token`, `--token-file` and `--tls-ca` to `cmd`; `address` says what `--address` means for it. */
export function headOptions(cmd: Command, address: string): Command {
  return cmd
    .option('--address <ws://HOST:PORT>', address)
    .option('--token <token>', 'cluster token (default: TSRAY_TOKEN, or this machine\'s head); visible to other local users, so prefer TSRAY_TOKEN or --token-file')
    .option('--token-file <path>', 'a file holding the cluster token')
    .option('--tls-ca <file>', 'a wss:// head: PEM CA certificate(s) to check it with (default: Node\'s trusted CAs and NODE_EXTRA_CA_CERTS)');
}

/** Connects to the head (`o.address`, else the head started on this machine), runs `use`, and closes. */
export async function withHead<T>(o: HeadOptions, use: (peer: Peer) => Promise<T>): Promise<T> {
  const address = o.address ?? records().find((r) => r.role === 'head')?.address;
  if (!address) throw new InvalidArgumentError('no head started on this machine; pass --address ws://HOST:PORT');
  const token = tokenFor(o.address, o);
  if (!token) throw new InvalidArgumentError('no cluster token: set TSRAY_TOKEN or pass --token-file');
  const { peer } = await connect(address, token, 'cli', {}, {}, readTls({ ...(o.tlsCa ? { tlsCa: o.tlsCa } : {}) }));
  try {
    return await use(peer);
  } finally {
    peer.close();
  }
}
