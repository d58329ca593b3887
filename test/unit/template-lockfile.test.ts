import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PORTICO_ROOT } from "../../core/version.js";
import { buildTemplateLockfile } from "../support/template-lockfile.js";

describe("plugin-template/package-lock.json", () => {
  it("is what `npm run template:lock` builds from Portico's lockfile (so a scaffolded plugin installs offline)", () => {
    const committed = readFileSync(join(PORTICO_ROOT, "plugin-template", "package-lock.json"), "utf8");
    expect(committed, "run `npm run template:lock` and commit the result").to.equal(buildTemplateLockfile(PORTICO_ROOT));
  });
});
