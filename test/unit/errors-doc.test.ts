import { expect } from "chai";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCodes } from "../../core/errors/error-codes.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

describe("error codes and docs/errors.md", () => {
  const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
  const headings = [...doc.matchAll(/^## (PORTAL_ERR_[A-Z_]+)\s*$/gm)].map((m) => m[1]);

  it("has exactly one heading per code, and no heading for a code that does not exist", () => {
    const codes = Object.values(ErrorCodes).sort();
    expect([...headings].sort()).to.deep.equal(codes);
  });

  it("every code is used somewhere in core or plugins besides its definition", () => {
    const text = [...sources(join(ROOT, "core")), ...sources(join(ROOT, "plugins"))]
      .filter((f) => !f.endsWith("error-codes.ts"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    const unused = Object.entries(ErrorCodes).filter(([key]) => !text.includes(`ErrorCodes.${key}`)).map(([, code]) => code);
    expect(unused).to.deep.equal([]);
  });
});
