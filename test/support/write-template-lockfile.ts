import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTemplateLockfile } from "./template-lockfile.js";

// `npm run template:lock` (from the repository root): rewrites plugin-template/package-lock.json.
writeFileSync(join(process.cwd(), "plugin-template", "package-lock.json"), buildTemplateLockfile(process.cwd()));
process.stdout.write("wrote plugin-template/package-lock.json\n");
