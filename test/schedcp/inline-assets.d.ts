/** A compiled BPF object imported with Vite's `?inline` (vitest.config.mts): a base64 data URL. */
declare module "*.bpf.o?inline" {
  const dataUrl: string;
  export default dataUrl;
}

/** A text fixture imported with Vite's `?raw`. */
declare module "*.bpf.c?raw" {
  const text: string;
  export default text;
}
