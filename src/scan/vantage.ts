/** Where a scan runs from: the host name and, per target, the source address the kernel picks. */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';

/** Asks the routing table (a connected UDP socket sends nothing) which local address reaches `address`. */
export function findSourceAddress(address: string, family: 4 | 6): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (value: string | null): void => {
      socket.close();
      resolve(value);
    };
    socket.once('error', () => done(null));
    socket.connect(9, address, () => {
      try {
        done(socket.address().address);
      } catch {
        done(null);
      }
    });
  });
}

export function readVantageHostname(): string {
  return hostname();
}
