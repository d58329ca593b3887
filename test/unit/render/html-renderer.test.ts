import { expect } from "chai";
import { renderHtml } from "../../../core/render/html-renderer.js";
import { safeLinkUrl } from "../../../core/render/html-escape.js";

const A = (href: string, label: string): string =>
  `<a href="${href}" target="_blank" rel="noopener noreferrer">${label}</a>`;

describe("renderHtml", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["plain", "plain"],
    ["", ""],
    ["|rRed", '<span class="mu-bold" style="color:#ff0000">Red</span>'],
    ["|RRed", '<span style="color:#800000">Red</span>'],
    ["|h|!GHi", '<span class="mu-bold" style="color:#00ff00">Hi</span>'],
    ["|!GHi", '<span style="color:#008000">Hi</span>'],
    ["|[Bx", '<span style="background-color:#000080">x</span>'],
    ["|[bx", '<span style="background-color:#0000ff">x</span>'],
    ["|500x|=mz", '<span style="color:#ff0000">x</span><span style="color:#767676">z</span>'],
    ["|#AbCdEfx|[#f00y", '<span style="color:#abcdef">x</span><span style="color:#abcdef;background-color:#ff0000">y</span>'],
    ["|uu|iI|ss|^b", '<span class="mu-underline">u</span><span class="mu-underline mu-italic">I</span>' +
      '<span class="mu-underline mu-italic mu-strike">s</span><span class="mu-underline mu-italic mu-strike mu-blink">b</span>'],
    ["|u|Ux", "x"],
    ["|r|[Bi|*v", '<span class="mu-bold" style="color:#ff0000;background-color:#000080">i</span>' +
      '<span class="mu-bold mu-inverse" style="color:#000080;background-color:#ff0000">v</span>'],
    ["|ra|nb", '<span class="mu-bold" style="color:#ff0000">a</span>b'],
    ["|ra|gb", '<span class="mu-bold" style="color:#ff0000">a</span><span class="mu-bold" style="color:#00ff00">b</span>'],
    ["|r|n|gx", '<span class="mu-bold" style="color:#00ff00">x</span>'],
    ["a|/b\nc\r\nd", "a<br>b<br>c<br>d"],
    ["|ra|/b", '<span class="mu-bold" style="color:#ff0000">a<br>b</span>'],
    ["a  b   c|-d", "a&nbsp; b&nbsp;&nbsp; c&nbsp;&nbsp;&nbsp;&nbsp;d"],
    ["a||b |q", "a|b |q"],
  ];
  for (const [markup, html] of cases) {
    it(JSON.stringify(markup), () => expect(renderHtml(markup)).to.equal(html));
  }

  describe("escaping", () => {
    it("escapes <script>, quotes and ampersands in text", () => {
      expect(renderHtml(`<script>alert("x&'y")</script>`)).to.equal(
        "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;",
      );
    });
    it("escapes inside coloured spans and labels", () => {
      expect(renderHtml("|r<b>|lcx|lt<i>|le")).to.equal(
        '<span class="mu-bold" style="color:#ff0000">&lt;b&gt;</span><span class="mxp-send" data-command="x">' +
          '<span class="mu-bold" style="color:#ff0000">&lt;i&gt;</span></span>',
      );
    });
    it("removes escape sequences and control characters", () => {
      expect(renderHtml("a\x1b[31mb\x00c\x07d\x1b]0;title\x07e")).to.equal("abcde");
    });
  });

  describe("links", () => {
    it("command links become mxp-send spans with an escaped data-command", () => {
      expect(renderHtml('|lcsay "<hi>" & bye\n|ltsay|le')).to.equal(
        '<span class="mxp-send" data-command="say &quot;&lt;hi&gt;&quot; &amp; bye ">say</span>',
      );
    });
    it("allowed URLs become anchors", () => {
      expect(renderHtml("|luhttps://example.com/a?b=1&c=2|ltsite|le")).to.equal(A("https://example.com/a?b=1&amp;c=2", "site"));
      expect(renderHtml("|lutelnet://mud.example:4000|ltmud|le")).to.equal(A("telnet://mud.example:4000", "mud"));
      expect(renderHtml("|lumailto:a@b.example|ltmail|le")).to.equal(A("mailto:a@b.example", "mail"));
      expect(renderHtml('|luhttp://x.example/"><script>|ltq|le')).to.equal(A("http://x.example/%22%3E%3Cscript%3E", "q"));
    });
    it("other schemes and relative URLs render only the label", () => {
      for (const url of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "//evil.example", "/rel", "vbscript:x", "file:///etc/passwd"]) {
        expect(renderHtml(`|lu${url}|lt|rclick|le`), url).to.equal('<span class="mu-bold" style="color:#ff0000">click</span>');
      }
    });
    it("styles inside a label are closed before the link closes", () => {
      expect(renderHtml("|luhttp://a.example|lt|[Rx|le y")).to.equal(
        A("http://a.example/", '<span style="background-color:#800000">x</span>') +
          '<span style="background-color:#800000"> y</span>',
      );
    });
    it("an unterminated label is closed at the end", () => {
      expect(renderHtml("|lcq|lt|gx")).to.equal(
        '<span class="mxp-send" data-command="q"><span class="mu-bold" style="color:#00ff00">x</span></span>',
      );
    });
    it("safeLinkUrl", () => {
      expect(safeLinkUrl(" https://a.example ")).to.equal("https://a.example/");
      expect(safeLinkUrl("java\nscript:alert(1)")).to.equal(undefined);
      expect(safeLinkUrl("")).to.equal(undefined);
    });
  });

  it("nocolor drops styles but keeps line breaks and links", () => {
    expect(renderHtml("|r|uA|/|lcq|lt|gB|le", { nocolor: true })).to.equal('A<br><span class="mxp-send" data-command="q">B</span>');
  });
});
