import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAppConfig } from "../../core/config/load-config.js";
import { natsCredentials } from "../../core/config/nats-credentials.js";
import { resolvePortalConfig, type NatsLinkConfig } from "../../core/config/portal-config.js";
import { ErrorCodes } from "../../core/errors/error-codes.js";
import { PortalError } from "../../core/errors/portal-error.js";
import { DataDir, PORTAL_ID } from "../../core/state/data-dir.js";

/** Runs fn, expecting PORTAL_ERR_CONFIG_INVALID naming `key`; returns the error. */
function expectConfigError(fn: () => unknown, key: string): PortalError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected an error naming ${key}`).to.be.instanceOf(PortalError);
  const err = caught as PortalError;
  expect(err.code).to.equal(ErrorCodes.CONFIG_INVALID);
  expect(err.details).to.deep.include({ key });
  expect(err.message).to.contain(key);
  return err;
}

describe("NATS configuration", () => {
  let dir: string;
  const base = (): NatsLinkConfig => resolvePortalConfig({}).link.nats;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "portico-nats-config-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("natsCredentials", () => {
    it("gives nothing when nothing is set", () => {
      expect(natsCredentials(base(), {})).to.deep.equal({});
    });

    it("reads user and password from the environment", () => {
      expect(natsCredentials(base(), { PORTICO_NATS_USER: "portal", PORTICO_NATS_PASSWORD: "s3cret" })).to.deep.equal({ user: "portal", password: "s3cret" });
    });

    it("reads a password (one trailing newline dropped) from PORTICO_NATS_PASSWORD_FILE", () => {
      const path = file("pw", "from-file\n");
      expect(natsCredentials({ ...base(), user: "cfg-user" }, { PORTICO_NATS_PASSWORD_FILE: path })).to.deep.equal({ user: "cfg-user", password: "from-file" });
    });

    it("reads a token from PORTICO_NATS_TOKEN and PORTICO_NATS_TOKEN_FILE", () => {
      expect(natsCredentials(base(), { PORTICO_NATS_TOKEN: "tok" })).to.deep.equal({ token: "tok" });
      const path = file("tok", "tok-from-file\r\n");
      expect(natsCredentials(base(), { PORTICO_NATS_TOKEN_FILE: path })).to.deep.equal({ token: "tok-from-file" });
    });

    it("reads passwordFile and tokenFile from the config", () => {
      const pw = file("pw", "cfg-pw\n");
      expect(natsCredentials({ ...base(), user: "u", passwordFile: pw }, {})).to.deep.equal({ user: "u", password: "cfg-pw" });
      const tok = file("tok", "cfg-tok\n");
      expect(natsCredentials({ ...base(), tokenFile: tok }, {})).to.deep.equal({ token: "cfg-tok" });
    });

    it("lets the environment override the config", () => {
      const pw = file("pw", "cfg-pw\n");
      expect(natsCredentials({ ...base(), user: "cfg-user", passwordFile: pw }, { PORTICO_NATS_USER: "env-user", PORTICO_NATS_PASSWORD: "env-pw" }))
        .to.deep.equal({ user: "env-user", password: "env-pw" });
      const tok = file("tok", "cfg-tok\n");
      expect(natsCredentials({ ...base(), tokenFile: tok }, { PORTICO_NATS_TOKEN: "env-tok" })).to.deep.equal({ token: "env-tok" });
    });

    it("does not read the config's file when the environment overrides it", () => {
      expect(natsCredentials({ ...base(), user: "u", passwordFile: join(dir, "missing") }, { PORTICO_NATS_PASSWORD: "env-pw" })).to.deep.equal({ user: "u", password: "env-pw" });
    });

    it("refuses a token together with a user or a password", () => {
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_TOKEN: "t", PORTICO_NATS_USER: "u" }), "link.nats.tokenFile");
      expectConfigError(() => natsCredentials({ ...base(), user: "u" }, { PORTICO_NATS_TOKEN: "t" }), "link.nats.tokenFile");
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_TOKEN: "t", PORTICO_NATS_USER: "u", PORTICO_NATS_PASSWORD: "p" }), "link.nats.tokenFile");
    });

    it("refuses a password without a user", () => {
      const err = expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_PASSWORD: "p" }), "link.nats.user");
      expect(err.message).to.contain("PORTICO_NATS_USER");
      expectConfigError(() => natsCredentials({ ...base(), passwordFile: file("pw", "p\n") }, {}), "link.nats.user");
    });

    it("refuses both NAME and NAME_FILE", () => {
      const path = file("pw", "p\n");
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_USER: "u", PORTICO_NATS_PASSWORD: "p", PORTICO_NATS_PASSWORD_FILE: path }), "PORTICO_NATS_PASSWORD");
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_TOKEN: "t", PORTICO_NATS_TOKEN_FILE: path }), "PORTICO_NATS_TOKEN");
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_USER: "u", PORTICO_NATS_USER_FILE: path }), "PORTICO_NATS_USER");
    });

    it("an unreadable file is PORTAL_ERR_CONFIG_INVALID naming the key", () => {
      const missing = join(dir, "nope");
      const e1 = expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_USER: "u", PORTICO_NATS_PASSWORD_FILE: missing }), "PORTICO_NATS_PASSWORD_FILE");
      expect(e1.message).to.contain(missing);
      expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_TOKEN_FILE: missing }), "PORTICO_NATS_TOKEN_FILE");
      expectConfigError(() => natsCredentials({ ...base(), user: "u", passwordFile: missing }, {}), "link.nats.passwordFile");
      expectConfigError(() => natsCredentials({ ...base(), tokenFile: missing }, {}), "link.nats.tokenFile");
      // A directory cannot be read as a file either.
      expectConfigError(() => natsCredentials({ ...base(), tokenFile: dir }, {}), "link.nats.tokenFile");
    });

    it("never echoes a secret in its errors", () => {
      const err = expectConfigError(() => natsCredentials(base(), { PORTICO_NATS_PASSWORD: "hunter2-very-secret" }), "link.nats.user");
      expect(err.message).not.to.contain("hunter2-very-secret");
    });
  });

  describe("loadAppConfig over NATS", () => {
    it("applies PORTICO_LINK_TRANSPORT, PORTICO_NATS_SERVERS (comma-separated, trimmed) and PORTICO_NATS_PREFIX", () => {
      const { config, source } = loadAppConfig({
        cwd: dir,
        env: { PORTICO_LINK_TRANSPORT: "nats", PORTICO_NATS_SERVERS: "nats://a:1, nats://b:2", PORTICO_NATS_PREFIX: "games.mygame" },
      });
      expect(source).to.equal(null);
      expect(config.link.transport).to.equal("nats");
      expect(config.link.nats.servers).to.deep.equal(["nats://a:1", "nats://b:2"]);
      expect(config.link.nats.prefix).to.equal("games.mygame");
    });

    it("defaults to tcp and the default NATS settings without the variables", () => {
      const { config } = loadAppConfig({ cwd: dir, env: {} });
      expect(config.link.transport).to.equal("tcp");
      expect(config.link.nats.servers).to.deep.equal(["nats://127.0.0.1:4222"]);
      expect(config.link.nats.prefix).to.equal("portico");
    });

    it("the environment overrides the file's NATS settings and keeps the rest of them", () => {
      writeFileSync(join(dir, "portico.config.json"), JSON.stringify({ link: { transport: "tcp", nats: { servers: ["nats://file:4222"], prefix: "file", user: "fileuser", resendMs: 300 } } }));
      const { config, source } = loadAppConfig({ cwd: dir, env: { PORTICO_LINK_TRANSPORT: "nats", PORTICO_NATS_SERVERS: "tls://x:4443" } });
      expect(source).to.equal(join(dir, "portico.config.json"));
      expect(config.link.transport).to.equal("nats");
      expect(config.link.nats.servers).to.deep.equal(["tls://x:4443"]);
      expect(config.link.nats.prefix).to.equal("file");
      expect(config.link.nats.user).to.equal("fileuser");
      expect(config.link.nats.resendMs).to.equal(300);
    });

    it("reads the variables from NAME_FILE too", () => {
      const path = file("servers", "nats://s1:4222,nats://s2:4222\n");
      const { config } = loadAppConfig({ cwd: dir, env: { PORTICO_NATS_SERVERS_FILE: path } });
      expect(config.link.nats.servers).to.deep.equal(["nats://s1:4222", "nats://s2:4222"]);
    });

    it("a bad transport, prefix or server from the environment is PORTAL_ERR_CONFIG_INVALID naming the key", () => {
      const e1 = expectConfigError(() => loadAppConfig({ cwd: dir, env: { PORTICO_LINK_TRANSPORT: "carrier-pigeon" } }), "link.transport");
      expect(e1.message).to.contain("environment override");
      expectConfigError(() => loadAppConfig({ cwd: dir, env: { PORTICO_NATS_PREFIX: "a..b" } }), "link.nats.prefix");
      expectConfigError(() => loadAppConfig({ cwd: dir, env: { PORTICO_NATS_SERVERS: "nats://ok:1, http://bad:2" } }), "link.nats.servers[1]");
      expectConfigError(() => loadAppConfig({ cwd: dir, env: { PORTICO_NATS_SERVERS: " , " } }), "link.nats.servers");
    });
  });

  describe("resolvePortalConfig link.nats", () => {
    const nats = (n: Record<string, unknown>) => resolvePortalConfig({ link: { transport: "nats", nats: n } });

    it("accepts servers, prefixes and TLS in their documented forms", () => {
      const c = nats({ servers: ["nats://a:1", "tls://b.example:4443", "c", "d:4222"], prefix: "a.b-c.d_e", tls: { caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" } });
      expect(c.link.nats.servers).to.have.length(4);
      expect(c.link.nats.prefix).to.equal("a.b-c.d_e");
      expect(c.link.nats.tls).to.deep.equal({ caFile: "/ca.pem", certFile: "/c.pem", keyFile: "/k.pem" });
      expect(nats({ tls: {} }).link.nats.tls).to.deep.equal({});
    });

    it("rejects a bad prefix", () => {
      for (const prefix of ["a..b", "a b", "", ".a", "a.", "a.*", "a.>", "x".repeat(65), "a.b.c.d.e.f.g.h.i"]) {
        expectConfigError(() => nats({ prefix }), "link.nats.prefix");
      }
    });

    it("rejects a bad server URL", () => {
      for (const server of ["http://a:1", "nats://", "a b", "nats:// a", "host:port", "host:123456", ""]) {
        expectConfigError(() => nats({ servers: [server] }), "link.nats.servers[0]");
      }
      expectConfigError(() => nats({ servers: [] }), "link.nats.servers");
    });

    it("rejects certFile without keyFile (and keyFile without certFile)", () => {
      expectConfigError(() => nats({ tls: { certFile: "/c.pem" } }), "link.nats.tls.keyFile");
      expectConfigError(() => nats({ tls: { keyFile: "/k.pem" } }), "link.nats.tls.keyFile");
    });

    it("rejects secrets written into the config and unknown keys", () => {
      expectConfigError(() => nats({ password: "x" }), "link.nats.password");
      expectConfigError(() => nats({ token: "x" }), "link.nats.token");
    });
  });

  describe("DataDir.portalId", () => {
    it("derives <host>-<4 hex> from the host name, sanitized", () => {
      const cases: [string, RegExp][] = [
        ["web-1", /^web-1-[0-9a-f]{4}$/],
        ["Web1.Example.COM", /^web1-example-com-[0-9a-f]{4}$/],
        ["--odd__host!!", /^odd__host-[0-9a-f]{4}$/],
        ["", /^portal-[0-9a-f]{4}$/],
        ["...", /^portal-[0-9a-f]{4}$/],
        ["h".repeat(60), new RegExp(`^${"h".repeat(27)}-[0-9a-f]{4}$`)],
      ];
      for (const [host, re] of cases) {
        const sub = join(dir, `d${cases.findIndex((c) => c[0] === host)}`);
        const dd = new DataDir(sub);
        dd.ensure();
        const id = dd.portalId(host);
        expect(id, host).to.match(re);
        expect(PORTAL_ID.test(id), id).to.equal(true);
      }
    });

    it("persists the id and returns it again, also to a new DataDir on the same directory", () => {
      const dd = new DataDir(dir);
      const id = dd.portalId("alpha");
      expect(readFileSync(join(dir, "portal-id"), "utf8").trim()).to.equal(id);
      expect(dd.portalId("alpha")).to.equal(id);
      expect(new DataDir(dir).portalId("another-host-now")).to.equal(id);
    });

    it("accepts a portal id an operator wrote into the file", () => {
      writeFileSync(join(dir, "portal-id"), "edge_7\n");
      expect(new DataDir(dir).portalId("alpha")).to.equal("edge_7");
    });

    it("a corrupt portal-id file is PORTAL_ERR_DATA_DIR, not replaced", () => {
      for (const bad of ["not valid!", "", "a".repeat(33), "has space"]) {
        writeFileSync(join(dir, "portal-id"), `${bad}\n`);
        let caught: unknown;
        try {
          new DataDir(dir).portalId("alpha");
        } catch (err) {
          caught = err;
        }
        expect(caught, JSON.stringify(bad)).to.be.instanceOf(PortalError);
        expect((caught as PortalError).code).to.equal(ErrorCodes.DATA_DIR);
        expect((caught as PortalError).details).to.deep.equal({ path: join(dir, "portal-id") });
        expect(readFileSync(join(dir, "portal-id"), "utf8")).to.equal(`${bad}\n`);
      }
    });
  });
});
