import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Protocol-level pings: a client that has not answered the previous round is gone (half-open TCP,
 * suspended laptop) and is terminated instead of holding a session slot forever.
 */
export function startHeartbeat(
  wss: WebSocketServer,
  intervalMs: number,
  onDrop: (socket: WebSocket) => void,
): () => void {
  const alive = new WeakMap<WebSocket, boolean>();
  const mark = (socket: WebSocket) => {
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
  };
  wss.clients.forEach(mark);
  wss.on('connection', mark);
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (alive.get(socket) === false) {
        onDrop(socket);
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    wss.off('connection', mark);
  };
}
