import { createServer, type Socket } from "node:net";

/**
 * The raw baseline's server (a child process): newline-framed messages, each line decoded and
 * echoed back. By default the replies to one read go out in one write (batched, like Portico's
 * link); with `--per-message` every reply is its own socket.write. Prints "LISTENING <port>".
 * Exits on SIGTERM or when its stdin closes (the parent is gone).
 */
const perMessage = process.argv.includes("--per-message");
const sockets = new Set<Socket>();

const server = createServer((socket) => {
  sockets.add(socket);
  socket.setNoDelay(true);
  socket.setEncoding("utf8");
  let tail = "";
  socket.on("data", (chunk: string) => {
    const lines = (tail + chunk).split("\n");
    tail = lines.pop()!;
    if (lines.length === 0) return;
    if (perMessage) {
      for (const line of lines) socket.write(line + "\n");
      return;
    }
    let out = "";
    for (const line of lines) out += line + "\n";
    socket.write(out);
  });
  socket.on("error", () => {});
  socket.on("close", () => sockets.delete(socket));
});

function quit(): void {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
}

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`LISTENING ${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", quit);
process.stdin.on("end", quit);
process.stdin.resume();
