import { expect } from "chai";
import { escapeIac } from "../../../plugins/telnet/output-pipe.js";
import { HTTP_REPLY, crlf, encodeOutput, isHttpRequestLine } from "../../../plugins/telnet/text-encoding.js";

describe("telnet output encoding", () => {
  describe("escapeIac", () => {
    it("doubles every 0xFF and nothing else", () => {
      expect([...escapeIac(Buffer.from([0x41, 0xff, 0x42, 0x0d, 0x0a]))]).to.deep.equal([0x41, 0xff, 0xff, 0x42, 0x0d, 0x0a]);
      expect([...escapeIac(Buffer.from([0xff, 0xff, 0xff]))]).to.deep.equal([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
      expect([...escapeIac(Buffer.from([0xff]))]).to.deep.equal([0xff, 0xff]);
      expect(escapeIac(Buffer.alloc(0)).length).to.equal(0);
    });

    it("leaves a buffer without 0xFF as it is", () => {
      const plain = Buffer.from("no iac here\r\n");
      expect(escapeIac(plain).equals(plain)).to.equal(true);
    });

    it("every byte value round-trips through escape + unescape", () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const escaped = escapeIac(all);
      expect(escaped.length).to.equal(257);
      expect(Buffer.from(escaped.toString("latin1").replace(/\xff\xff/g, "\xff"), "latin1").equals(all)).to.equal(true);
    });
  });

  describe("encodeOutput", () => {
    it("encodes UTF-8 by default and for unknown labels", () => {
      expect(encodeOutput("é€", undefined).toString("hex")).to.equal("c3a9e282ac");
      expect(encodeOutput("é", "utf-8").toString("hex")).to.equal("c3a9");
      expect(encodeOutput("é", "UTF-8").toString("hex")).to.equal("c3a9");
      expect(encodeOutput("ÿ", "utf-8").includes(0xff)).to.equal(false);
    });

    it("encodes latin-1 (all labels) one byte per character; others become ?", () => {
      for (const label of ["latin-1", "latin1", "ISO-8859-1", "Latin-1"]) {
        expect(encodeOutput("café ÿ", label).toString("hex"), label).to.equal(Buffer.from("café ÿ", "latin1").toString("hex"));
        expect(encodeOutput("a€b", label).toString("latin1"), label).to.equal("a?b");
      }
      // A character outside the BMP is one "?" (not two).
      expect(encodeOutput("x😀y", "latin-1").toString("latin1")).to.equal("x?y");
    });

    it("ascii replaces everything above 0x7F", () => {
      expect(encodeOutput("café", "ascii").toString("latin1")).to.equal("caf?");
    });
  });

  describe("crlf", () => {
    it("gives exactly one CR before each LF", () => {
      expect(crlf("a\nb")).to.equal("a\r\nb");
      expect(crlf("a\r\nb")).to.equal("a\r\nb");
      expect(crlf("a\n\rb")).to.equal("a\r\nb");
      expect(crlf("a\rb")).to.equal("a\r\nb");
      expect(crlf("a\n\nb")).to.equal("a\r\n\r\nb");
      for (const s of ["x\r\r\ny", "\n\n\r\r\n", "a\r\n\r\nb\n"]) {
        const out = crlf(s);
        expect(out, JSON.stringify(s)).to.not.match(/\r\r|\n(?<!\r\n)|\r(?!\n)/);
      }
    });
  });

  describe("HTTP detection", () => {
    it("recognises request lines and nothing else", () => {
      for (const l of ["GET / HTTP/1.1", "post /x HTTP/1.0", "HEAD /index.html HTTP/2.0", "OPTIONS * HTTP/1.1"]) expect(isHttpRequestLine(l), l).to.equal(true);
      for (const l of ["get the sword", "GET /", "look", "GET / HTTP/1.1 extra", "connect bob pw"]) expect(isHttpRequestLine(l), l).to.equal(false);
      expect(HTTP_REPLY).to.match(/^HTTP\/1\.1 400/);
      expect(HTTP_REPLY).to.match(/telnet/i);
    });
  });
});
