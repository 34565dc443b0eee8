// `outlayer build`'s bundler: one near-sdk-js contract (.ts or .js) -> one ES module.
//
// The same rollup + babel pipeline as near-sdk-js 2.0.0's own CLI (lib/cli/cli.js,
// createJsFileWithRullup): node-resolve for .js/.ts, babel with the TypeScript preset,
// near-sdk-js's includeBytes and near-bindgen exporter plugins and legacy decorators,
// bundled helpers, ES output. OutLayer stops there (no qjsc, no wasm): the module is
// deployed as it is. Differences, all deliberate: `near-sdk-js` imports always resolve to
// this toolchain's pinned copy (other packages resolve from the contract's folder first);
// no babel config files are read (a build depends only on its inputs); an unresolved
// import is an error instead of an external; no source map.
//
// Usage: node build.mjs ENTRY
// Prints one JSON object: {ok: true, code, exports, inputs} or
// {ok: false, error: {message, file, line, column}} (line and column 1-based, or null).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { babel } from "@rollup/plugin-babel";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { rollup } from "rollup";

const require = createRequire(import.meta.url);
const TOOLCHAIN = path.dirname(fileURLToPath(import.meta.url));
// resolving from here finds this toolchain's node_modules
const ANCHOR = path.join(TOOLCHAIN, "package.json");
// the first line of every bundle: tells OutLayer's deploy-time transform what it is
const TAG = "/*near-sdk-js*/";
const SDK = "near-sdk-js";

class BuildError extends Error {
  constructor(message, file = null, line = null, column = null) {
    super(message);
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

// `near-sdk-js` (and its subpaths) from this toolchain, whatever the contract's folder has.
const pinnedSdk = {
  name: "outlayer-pinned-near-sdk-js",
  async resolveId(source, importer, options) {
    if (!importer || (source !== SDK && !source.startsWith(`${SDK}/`))) return null;
    return this.resolve(source, ANCHOR, { ...options, skipSelf: true });
  },
};

function rollupOptions(entry) {
  return {
    input: entry,
    plugins: [
      pinnedSdk,
      nodeResolve({ extensions: [".js", ".ts"] }),
      babel({
        babelHelpers: "bundled",
        babelrc: false,
        configFile: false,
        highlightCode: false, // plain code frames, whatever FORCE_COLOR or the terminal says
        extensions: [".ts", ".js", ".jsx", ".es6", ".es", ".mjs"],
        presets: [require.resolve("@babel/preset-typescript")],
        plugins: [
          require.resolve(`${SDK}/lib/cli/build-tools/include-bytes.js`),
          [require.resolve(`${SDK}/lib/cli/build-tools/near-bindgen-exporter.js`),
            { verbose: false }],
          [require.resolve("@babel/plugin-proposal-decorators"), { version: "legacy" }],
        ],
      }),
    ],
    onwarn(warning) {
      if (warning.code === "UNRESOLVED_IMPORT") {
        const from = warning.importer ? path.relative(process.cwd(), warning.importer) : null;
        throw new BuildError(`cannot resolve '${warning.source}'` +
          (from ? ` (imported by ${from})` : "") +
          ": install it next to the contract, or import a relative file", warning.importer);
      }
    },
  };
}

// A rollup or babel error as {message, file, line, column}.
function describe(err) {
  if (err instanceof BuildError) {
    return { message: err.message, file: err.file, line: err.line, column: err.column };
  }
  const loc = err.loc || {};
  const file = loc.file || err.id || null;
  let message = String(err.message || err);
  // babel prefixes the absolute path and suffixes "(line:column)"
  if (file && message.startsWith(`${file}: `)) message = message.slice(file.length + 2);
  message = message.replace(/ \(\d+:\d+\)(?=\n|$)/, "");
  const line = typeof loc.line === "number" ? loc.line : null;
  // babel's and rollup's columns are 0-based
  const column = typeof loc.column === "number" ? loc.column + 1 : null;
  return { message, file, line, column };
}

async function main() {
  const entry = process.argv[2];
  if (!entry) throw new BuildError("usage: node build.mjs ENTRY");
  const bundle = await rollup(rollupOptions(path.resolve(entry)));
  try {
    const { output } = await bundle.generate({ format: "es", sourcemap: false });
    const chunk = output.find((o) => o.type === "chunk" && o.isEntry);
    if (output.length !== 1 || !chunk) {
      throw new BuildError("the contract must bundle into one module (dynamic import() " +
        "splits it into several, which a contract cannot load)");
    }
    const inputs = bundle.watchFiles.filter((f) => !f.startsWith("\0") &&
      !f.startsWith(TOOLCHAIN + path.sep));
    return { ok: true, code: `${TAG}\n${chunk.code}`, exports: chunk.exports, inputs };
  } finally {
    await bundle.close();
  }
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (err) => {
    process.stdout.write(JSON.stringify({ ok: false, error: describe(err) }));
  },
);
