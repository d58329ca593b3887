import { expect } from "chai";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../fixtures/broken-plugins.contract.js", import.meta.url));

interface MochaJson {
  passes: { fullTitle: string }[];
  failures: { fullTitle: string }[];
}

/** Runs the broken plugins through the contract suite in a child mocha; its JSON report. */
function runFixture(): Promise<MochaJson> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [
      fileURLToPath(new URL("../../../node_modules/mocha/bin/mocha.js", import.meta.url)),
      "--no-config", "--exit", "--require", "reflect-metadata", "--reporter", "json", "--timeout", "20000", FIXTURE,
    ], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      try {
        resolve(JSON.parse(stdout.slice(stdout.indexOf("{"))) as MochaJson);
      } catch {
        reject(err ?? new Error(`no JSON report: ${stdout.slice(0, 500)}`));
      }
    });
  });
}

// A test that cannot fail is a defect: the contract suite is itself checked against plugins
// that each break one rule, and must fail exactly where the rule is broken.
describe("the plugin contract suite catches broken plugins", function () {
  this.timeout(120_000);
  let report: MochaJson;
  before(async () => {
    report = await runFixture();
  });

  const failed = (plugin: string) => report.failures.map((f) => f.fullTitle).filter((t) => t.startsWith(`plugin contract: ${plugin} `)).map((t) => t.slice(`plugin contract: ${plugin} `.length)).sort();

  const cases: [string, string[]][] = [
    ["LeaksATimer", ["stop() leaves no open socket, timer or handle, and no session"]],
    ["DropsInput", ["a connection becomes one session; its input reaches the game", "stop() leaves no open socket, timer or handle, and no session"]],
    ["LosesOutput", ["an unknown output key goes to send_default without throwing", "output from the game reaches the peer"]],
    ["ThrowsOnUnknownKeys", ["an unknown output key goes to send_default without throwing"]],
    ["IgnoresDisconnect", ["the game's disconnect closes the peer"]],
  ];
  for (const [plugin, expected] of cases) {
    it(`${plugin}: fails ${expected.length === 1 ? `"${expected[0]}"` : `${expected.length} checks`}, passes the rest`, () => {
      expect(failed(plugin)).to.deep.equal([...expected].sort());
      expect(report.passes.filter((p) => p.fullTitle.startsWith(`plugin contract: ${plugin} `))).to.have.length(8 - expected.length);
    });
  }
});
