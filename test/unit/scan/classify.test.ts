import { describe, expect, it } from 'vitest';
import { classifyConnectOutcome } from '../../../src/scan/classify.js';

describe('classifyConnectOutcome', () => {
  it.each([
    ['connected', 'open', 'syn-ack'],
    ['ECONNREFUSED', 'closed', 'conn-refused'],
    ['EHOSTUNREACH', 'filtered', 'host-unreach'],
    ['ENETUNREACH', 'filtered', 'net-unreach'],
    ['syn-ack', 'open', 'syn-ack'],
    ['reset', 'closed', 'reset'],
  ] as const)('%s -> %s (%s)', (outcome, state, reason) => {
    expect(classifyConnectOutcome(outcome)).toEqual({ kind: 'state', state, reason });
  });

  it.each(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'EAGAIN', 'ENOMEM', 'ESOMETHINGNEW'])('%s is a local resource error, never a port state', (outcome) => {
    expect(classifyConnectOutcome(outcome)).toEqual({ kind: 'local-resource' });
  });

  it('a self-connect and a timeout are not states', () => {
    expect(classifyConnectOutcome('self-connect').kind).toBe('self-connect');
    expect(classifyConnectOutcome('timeout').kind).toBe('no-answer');
  });

  it('reads the ICMP code when the kernel queued it', () => {
    expect(classifyConnectOutcome('EHOSTUNREACH', { family: 4, type: 3, code: 13 })).toEqual({ kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' });
    expect(classifyConnectOutcome('EHOSTUNREACH', { family: 4, type: 3, code: 10 })).toEqual({ kind: 'state', state: 'filtered', reason: 'icmp-host-prohibited' });
    expect(classifyConnectOutcome('ECONNREFUSED', { family: 4, type: 3, code: 3 })).toEqual({ kind: 'state', state: 'closed', reason: 'icmp-port-unreach' });
    expect(classifyConnectOutcome('EACCES', { family: 6, type: 1, code: 1 })).toEqual({ kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' });
  });

  it('SYN scan: an ICMP answer is classified by its type and code; one outside the tables is no answer', () => {
    expect(classifyConnectOutcome('icmp', { family: 4, type: 3, code: 13 })).toEqual({ kind: 'state', state: 'filtered', reason: 'icmp-admin-prohibited' });
    expect(classifyConnectOutcome('icmp', { family: 6, type: 1, code: 4 })).toEqual({ kind: 'state', state: 'closed', reason: 'icmp-port-unreach' });
    expect(classifyConnectOutcome('icmp', { family: 4, type: 3, code: 4 })).toEqual({ kind: 'no-answer' });
  });

  it.each([
    [0, 'filtered', 'icmp-net-unreach'], // no route to destination
    [1, 'filtered', 'icmp-admin-prohibited'],
    [3, 'filtered', 'icmp-host-unreach'], // address unreachable (no NDP answer)
    [4, 'closed', 'icmp-port-unreach'],
    [5, 'filtered', 'icmp-admin-prohibited'], // source address failed ingress/egress policy
    [6, 'filtered', 'icmp-admin-prohibited'], // reject route to destination
  ] as const)('ICMPv6 destination unreachable code %i -> %s (%s), by errno and on a SYN scan', (code, state, reason) => {
    expect(classifyConnectOutcome('EHOSTUNREACH', { family: 6, type: 1, code })).toEqual({ kind: 'state', state, reason });
    expect(classifyConnectOutcome('icmp', { family: 6, type: 1, code })).toEqual({ kind: 'state', state, reason });
  });

  it('ICMPv6 Packet Too Big (type 2) and an IPv4 type read as IPv6 say nothing about the port', () => {
    expect(classifyConnectOutcome('icmp', { family: 6, type: 2, code: 0 })).toEqual({ kind: 'no-answer' });
    expect(classifyConnectOutcome('icmp', { family: 6, type: 3, code: 3 })).toEqual({ kind: 'no-answer' });
  });

  it('falls back to the errno when the ICMP detail is not an unreachable', () => {
    expect(classifyConnectOutcome('EHOSTUNREACH', { family: 4, type: 11, code: 0 })).toEqual({ kind: 'state', state: 'filtered', reason: 'host-unreach' });
  });
});
