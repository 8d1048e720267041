import { WireError } from '../wire/wire-error';

/** The version every frame of the mesh's protocols (shard, model, announcements) carries. */
export const WIRE_VERSION = 2;

/** Throws a 'bad-version' WireError unless `v` is WIRE_VERSION (a mismatch, not an offence). */
export function version(v: number): void {
  if (v !== WIRE_VERSION) {
    throw new WireError('bad-version', `wire version ${v}, expected ${WIRE_VERSION}`, 'version');
  }
}

/** Throws unless exactly one of a frame's oneof bodies is set. */
export function one(bodies: unknown[]): void {
  const n = bodies.filter((b) => b !== undefined).length;
  if (n !== 1) {
    throw new WireError('invalid-field', `a frame carries exactly one message, got ${n}`);
  }
}
