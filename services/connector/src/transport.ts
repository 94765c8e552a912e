// What the session core knows of a device's connection, whatever protocol it speaks: write a
// frame, how much is still waiting to reach the peer, end it with a reason, drop it, ask for a
// sign of life. The WebSocket transport (ws-transport.ts) is the first; MQTT and SSE come on the
// same interface. The core owns the policy (buffer limits, QoS 0 first to go, stalled peers,
// heartbeats, drain); a transport owns only its socket.
export interface Transport {
  /** Frames can be written (false once closing or closed). */
  readonly open: boolean;
  /** Bytes written and not yet taken by the peer. */
  readonly bufferedBytes: number;
  /** Writes one encoded frame; the core has checked `open` and its buffer limit. */
  write(frame: string): void;
  /** Ends the connection telling the peer why (Parley's close codes, CLOSE, docs/PROTOCOL.md). */
  close(code: number, reason: string): void;
  /** Drops the connection at once, no goodbye (a peer gone silent or not reading). */
  terminate(): void;
  /** Asks the peer for a sign of life; its answer reaches the core as SessionHandle.alive(). */
  probe(): void;
}

/** What a transport tells the session core about its connection once it is open. */
export interface SessionHandle {
  /** A text frame from the device (a client.proto frame in JSON). */
  frame(text: string): void;
  /** A frame the transport could not take (say, binary on the JSON protocol): answered with an error frame. */
  refuse(code: 'BAD_FRAME', message: string): void;
  /** The peer answered a probe (or showed it is there some other way). */
  alive(): void;
  /** The connection is gone, whoever ended it. */
  closed(): void;
}
