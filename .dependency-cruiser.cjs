// Imports point one way: grammar ◀ compiler ◀ runtime ◀ cli. A parser never knows about GPUs; a kernel never
// knows about the CLI. Only runtime/webgpu/device.ts may touch Dawn's binding.
// NOTE: it cruises the compiled dist/ tree: dependency-cruiser parses .ts through the `typescript` JS API, which
// TypeScript 7 (the native compiler) no longer ships. Type-only imports vanish in dist/, runtime coupling does not.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "grammar-is-a-leaf",
      severity: "error",
      comment: "grammar/ imports nothing of ours",
      from: { path: "^dist/grammar/" },
      to: { path: "^dist/(compiler|runtime|cli)/" },
    },
    {
      name: "compiler-below-runtime",
      severity: "error",
      comment: "compiler/ may import grammar/ only",
      from: { path: "^dist/compiler/" },
      to: { path: "^dist/(runtime|cli)/" },
    },
    {
      name: "runtime-below-cli",
      severity: "error",
      comment: "runtime/ may import compiler/ and grammar/ only",
      from: { path: "^dist/runtime/" },
      to: { path: "^dist/cli/" },
    },
    {
      name: "dawn-only-in-device",
      severity: "error",
      comment: "only runtime/webgpu/device.ts imports 'webgpu'",
      from: { pathNot: "^dist/runtime/webgpu/device\\.js$" },
      to: { path: "node_modules/webgpu/" },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    { name: "no-unresolvable", severity: "error", from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // chevrotain 11 declares only import/require entry points in its package exports.
    enhancedResolveOptions: {
      extensions: [".js"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
    },
  },
};
