// What the Workers and Vercel Edge bundlers make of a `.wasm` import: a compiled module.

declare module "*.wasm" {
  const module: object;
  export default module;
}

declare module "*.wasm?module" {
  const module: object;
  export default module;
}
