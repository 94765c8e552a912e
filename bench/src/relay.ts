// Baseline (a): a bare WebSocket relay. One process, no auth, no acks, no storage: the cost of
// moving frames through one Node process, and of holding idle sockets. Two ways to join:
// - ?room=R: every text frame a socket sends is written to the room's other sockets (groups);
// - ?id=K: the socket is addressable as K; a frame "K1,K2\n<body>" writes <body> to K1 and K2
//   (direct conversations of users who are in several conversations with one socket each).
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const byId = new Map<string, WebSocket>();
const server = new WebSocketServer({ host: '127.0.0.1', port: Number(process.env['WS_PORT'] ?? 0), perMessageDeflate: false });

server.on('connection', (ws, req) => {
  const params = new URL(req.url ?? '/', 'http://relay').searchParams;
  const id = params.get('id');
  if (id !== null) {
    byId.set(id, ws);
    ws.on('message', (data) => {
      const text = String(data);
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      const body = text.slice(newline + 1);
      for (const to of text.slice(0, newline).split(',')) byId.get(to)?.send(body);
    });
    ws.on('close', () => byId.get(id) === ws && byId.delete(id));
    return;
  }
  const room = params.get('room') ?? '';
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
