// Makes sure the Debian packages whose programs the test suite drives as real peers are installed.
// As root it installs what is missing with apt-get; otherwise it fails naming the command to run.
// A missing peer is a failure, never a silent skip.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Package → a file it installs that the tests use. Extend as suites that drive real peers land. */
export const PEERS = [
  { pkg: "telnet", file: "/usr/bin/telnet" },
  { pkg: "tintin++", file: "/usr/games/tt++" },
  { pkg: "bsdutils", file: "/usr/bin/script" },
  { pkg: "openssl", file: "/usr/bin/openssl" },
  { pkg: "ngircd", file: "/usr/sbin/ngircd" },
  { pkg: "chromium", file: "/usr/bin/chromium" },
  { pkg: "nats-server", file: "/usr/sbin/nats-server" },
];

const missing = PEERS.filter((p) => !existsSync(p.file));
if (missing.length > 0) {
  const names = missing.map((p) => p.pkg);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) {
    console.error(`missing test peers: ${names.join(", ")}\nrun: sudo apt-get update && sudo apt-get install -y ${names.join(" ")}`);
    process.exit(1);
  }
  console.log(`installing test peers: ${names.join(", ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-q", ...names], { stdio: "inherit", env });
  const still = missing.filter((p) => !existsSync(p.file));
  if (still.length > 0) {
    console.error(`still missing after install: ${still.map((p) => `${p.pkg} (${p.file})`).join(", ")}`);
    process.exit(1);
  }
}
