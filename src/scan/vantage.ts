/** Where a scan runs from: the host name and, per target, the source address the kernel picks. */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';

/**
 * Asks the routing table (connecting a UDP socket sends nothing) how `address` is reached: the
 * local source address, or why not. Without a usable route (none, or an unreachable / prohibit
 * route) Node's connect does not fail: the socket keeps the unspecified source address, which
 * is how "no route" shows.
 */
export function lookupRoute(address: string, family: 4 | 6): Promise<{ sourceAddress: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const done = (value: { sourceAddress: string } | { error: string }): void => {
      socket.close();
      resolve(value);
    };
    socket.once('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? 'EIO' }));
    socket.connect(9, address, () => {
      try {
        const sourceAddress = socket.address().address;
        done(sourceAddress === '0.0.0.0' || sourceAddress === '::' ? { error: 'no-route' } : { sourceAddress });
      } catch (error) {
        done({ error: (error as NodeJS.ErrnoException).code ?? 'EIO' });
      }
    });
  });
}

/** The local address that reaches `address`, or null without a route. */
export async function findSourceAddress(address: string, family: 4 | 6): Promise<string | null> {
  const route = await lookupRoute(address, family);
  return 'sourceAddress' in route ? route.sourceAddress : null;
}

export function readVantageHostname(): string {
  return hostname();
}
