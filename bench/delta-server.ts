// A ws server for the 1M-delta end-to-end case: on any text message it streams COUNT
// {"type":"content_delta","delta":"x"} frames, then one message_complete. Sends in batches and waits
// for each batch to be flushed, so the socket's backpressure (wscat reading slowly) is respected and
// this process's memory stays flat. Prints "listening PORT" once ready.
//   node --import tsx bench/delta-server.ts [COUNT]
import { WebSocketServer } from 'ws';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const BATCH = 2000;
const DELTA = JSON.stringify({ type: 'content_delta', delta: 'x' });

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('connection', (ws) => {
  ws.on('message', async () => {
    for (let sent = 0; sent < COUNT && ws.readyState === ws.OPEN; ) {
      const n = Math.min(BATCH, COUNT - sent);
      await new Promise<void>((resolve) => {
        for (let i = 1; i < n; i++) ws.send(DELTA);
        ws.send(DELTA, () => resolve()); // called once this frame (and so the batch) is written out
      });
      sent += n;
    }
    ws.send(JSON.stringify({ type: 'message_complete', messageId: 'm-1', tokensUsed: COUNT }));
  });
});
wss.on('listening', () => {
  const addr = wss.address();
  process.stdout.write(`listening ${addr && typeof addr === 'object' ? addr.port : String(addr)}\n`);
});
process.on('SIGTERM', () => wss.close(() => process.exit(0)));
