// Files embedded in the binary by `bun build --compile`; importing one yields its path.
declare module "*.tar" {
  const path: string;
  export default path;
}
declare module "*/hull-shim" {
  const path: string;
  export default path;
}
declare module "*/busybox-image/config" {
  const text: string;
  export default text;
}
