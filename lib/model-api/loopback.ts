// Which addresses and Host names are this machine's own: the stand-in listens on and answers only those
// unless told otherwise (a web page or another machine must not drive it).
import net from 'node:net';

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}
