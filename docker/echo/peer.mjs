/** The peer the backend saw (IPv4-mapped IPv6 addresses of a dual-stack listener shown as plain IPv4). */
export function peer(socket) {
  const address = socket.remoteAddress ?? '';
  return { remoteAddress: address.startsWith('::ffff:') ? address.slice(7) : address, remotePort: socket.remotePort ?? 0 };
}
