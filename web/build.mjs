// Bundles src/main.js (CodeMirror and the playground UI) and copies the page and its
// stylesheet into dist/, which `outlayer serve` serves at `/`. Everything is local: no CDN.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const out = new URL("./dist/", import.meta.url);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [new URL("./src/main.js", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: new URL("./app.js", out).pathname,
  logLevel: "warning",
});
for (const name of ["index.html", "style.css"]) {
  copyFileSync(new URL(`./src/${name}`, import.meta.url), new URL(`./${name}`, out));
}
