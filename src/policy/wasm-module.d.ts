/** A `.wasm?module` import: workerd (and wrangler's bundler) hand it over compiled, never fetched. */
declare module "*.wasm?module" {
  const compiled: WebAssembly.Module;
  export default compiled;
}
