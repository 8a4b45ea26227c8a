/**
 * Worker leases, as Ray's owners hold them: a driver asks the head for a
 * lease on one resource shape, and the head places it on a node, reserves
 * the shape there and signs a ticket. The driver then sends tasks of that
 * shape straight to the node's object server (`run` with `lease`), and the
 * node answers it there: the head is off the per-task path.
 *
 * A ticket is an HMAC, under a secret the node gave the head in its hello
 * (`NodeInfo.leaseKey`), of everything the node must trust about the lease:
 * its id, the node, the owner, the owner's object server (the only other
 * address a leased task's arguments may point at) and the shape. So a node
 * checks a lease without asking the head, and a token holder cannot forge
 * one, nor use another owner's lease to send work as that owner.
 *
 * An actor route is a lease with `actorId` (and no shape): its owner's calls
 * to that actor go straight to the node hosting it (`actor-call` with
 * `lease`). It reserves nothing, since the actor holds its resources itself.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the head grants and the node checks. */
export interface LeaseGrant {
  leaseId: string;
  nodeId: string;
  /** The node's object server, where leased tasks are sent. */
  address: string;
  /** The driver that holds it (its store id), and that driver's object server. */
  owner: string;
  ownerAddress: string;
  /** The resource shape every task sent on it has (`shapeKey`), and the request it stands for. */
  shape: string;
  request: Record<string, number>;
  /** An actor route's actor: calls to it, and nothing else, travel on this lease. */
  actorId?: string;
  /** HMAC-SHA256 (hex) of the fields above under the node's lease key. */
  ticket: string;
  /** The node's process id, for its guest log lines (not signed: the node does not read it). */
  pid?: number;
}

/** Driver -> head: a lease for tasks of `request` (DEFAULT placement). */
export interface LeaseRequestFrame {
  t: 'lease-request'; id: number; request: Record<string, number>;
  /** The node holding most of the arguments of the tasks it is for: placed there if the shape is free there (Ray's locality-aware leasing). */
  near?: string;
}
/** Driver -> head: a route to actor `actorId`'s node (answered by `lease-reply`: the route, or `busy` while it is not alive there). */
export interface ActorRouteFrame { t: 'actor-route'; id: number; actorId: string }
/** Head -> driver: the lease, or `busy` (no node has the shape free now: send through the head). */
export interface LeaseReplyFrame { t: 'lease-reply'; id: number; lease?: LeaseGrant; busy?: string }
/** Driver -> head: the lease is not used any more; its shape is free on its node again. */
export interface LeaseReturnFrame { t: 'lease-return'; leaseId: string }
/** Driver -> node (on its object server connection): tasks on this lease follow. */
export interface LeaseFrame { t: 'lease'; lease: LeaseGrant }
/** Head -> node: owner `owner` is gone; its leased work stops and what it owned there is freed. */
export interface OwnerGoneFrame { t: 'owner-gone'; owner: string }

/** The most leases a driver holds for one shape (a bound for shapes that fit anywhere, such as no resources). */
export const MAX_LEASES_PER_SHAPE = 64;

function mac(key: string, g: Omit<LeaseGrant, 'ticket'>): Buffer {
  // Fields joined with a separator no id, address or shape contains.
  return createHmac('sha256', key).update([g.leaseId, g.nodeId, g.address, g.owner, g.ownerAddress, g.shape, g.actorId ?? ''].join('\n')).digest();
}

/** The ticket for `g` under node key `key`. */
export function leaseTicket(key: string, g: Omit<LeaseGrant, 'ticket'>): string {
  return mac(key, g).toString('hex');
}

/** Whether `g`'s ticket was made with `key` (in constant time). */
export function ticketValid(key: string, g: LeaseGrant): boolean {
  if (typeof g.ticket !== 'string' || g.ticket.length !== 64 || !/^[0-9a-f]+$/.test(g.ticket)) return false;
  return timingSafeEqual(Buffer.from(g.ticket, 'hex'), mac(key, g));
}
