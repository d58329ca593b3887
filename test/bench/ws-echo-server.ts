import { WebSocketServer } from "ws";

/**
 * The websocket baseline's server (a child process): every message is sent straight back on its
 * socket, as a raw `ws` server would. Prints "LISTENING <port>"; exits on SIGTERM or when stdin closes.
 */
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false }, () => {
  const address = wss.address();
  process.stdout.write(`LISTENING ${typeof address === "object" && address ? address.port : 0}\n`);
});
wss.on("connection", (ws) => {
  ws.on("error", () => undefined);
  ws.on("message", (data, binary) => ws.send(data, { binary }));
});

function quit(): void {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
}
process.on("SIGTERM", quit);
process.stdin.on("end", quit);
process.stdin.resume();
