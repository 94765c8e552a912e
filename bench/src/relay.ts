// Baseline (a): a bare WebSocket relay. One process; a socket joins a room (?room=R) and every
// text frame it sends is written to the room's other sockets. No auth, no parsing, no acks:
// the cost of moving frames through one Node process, and of holding idle sockets.
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const server = new WebSocketServer({ host: '127.0.0.1', port: Number(process.env['WS_PORT'] ?? 0), perMessageDeflate: false });

server.on('connection', (ws, req) => {
  const room = new URL(req.url ?? '/', 'http://relay').searchParams.get('room') ?? '';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const peer of members) if (peer !== ws) peer.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
});
server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`ready ${address && typeof address === 'object' ? address.port : ''}\n`);
});
process.on('SIGTERM', () => process.exit(0));
