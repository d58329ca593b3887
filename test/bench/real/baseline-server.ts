import { createServer, type Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * The raw baseline (a child process): what a Node server does with the least work for the bench
 * game's words, as the ceiling Portico is measured against. `--proto tcp` (newline-framed, one
 * write per reply) or `--proto ws` (the `ws` library, one text frame per reply). On connect it
 * sends "Welcome."; "login X" → "Logged in as X."; "whoami" → "You are X."; "fanout T" → "fan: T"
 * to every connection; anything else → "echo: <line>". The listen backlog is Portico's default
 * (4096; the kernel caps it at net.core.somaxconn for both). Prints "LISTENING <port>"; exits on SIGTERM or when stdin closes.
 */
const proto = process.argv[process.argv.indexOf("--proto") + 1];
if (proto !== "tcp" && proto !== "ws") throw new Error("--proto must be tcp or ws");

interface Peer {
  write(line: string): void;
  name: string;
}
const peers = new Set<Peer>();

function answer(peer: Peer, line: string): void {
  const [word, rest] = [line.split(" ", 1)[0], line.slice(line.indexOf(" ") + 1)];
  if (word === "login") {
    peer.name = rest;
    peer.write(`Logged in as ${rest}.`);
  } else if (word === "whoami") peer.write(`You are ${peer.name}.`);
  else if (word === "fanout") for (const p of peers) p.write(`fan: ${rest}`);
  else peer.write(`echo: ${line}`);
}

function onTcp(socket: Socket): void {
  const peer: Peer = { name: "", write: (line) => socket.write(line + "\r\n") };
  peers.add(peer);
  socket.setNoDelay(true);
  socket.setEncoding("latin1");
  let tail = "";
  socket.on("data", (chunk: string) => {
    const lines = (tail + chunk).split("\n");
    tail = lines.pop()!;
    for (const line of lines) answer(peer, line.endsWith("\r") ? line.slice(0, -1) : line);
  });
  socket.on("error", () => undefined);
  socket.on("close", () => peers.delete(peer));
  peer.write("Welcome.");
}

function onWs(ws: WebSocket): void {
  const peer: Peer = { name: "", write: (line) => ws.send(line) };
  peers.add(peer);
  ws.on("message", (data: Buffer) => answer(peer, data.toString("utf8")));
  ws.on("error", () => undefined);
  ws.on("close", () => peers.delete(peer));
  peer.write("Welcome.");
}

const BACKLOG = 4096;
const announce = (port: number) => process.stdout.write(`LISTENING ${port}\n`);
let quit: () => void;
if (proto === "tcp") {
  const server = createServer(onTcp);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen({ port: 0, host: "127.0.0.1", backlog: BACKLOG }, () => announce((server.address() as { port: number }).port));
  quit = () => {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
  };
} else {
  const wss: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0, backlog: BACKLOG, perMessageDeflate: false }, (): void => void announce((wss.address() as { port: number }).port));
  wss.on("connection", onWs);
  quit = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
  };
}
process.on("SIGTERM", () => quit());
process.stdin.on("end", () => quit());
process.stdin.resume();
