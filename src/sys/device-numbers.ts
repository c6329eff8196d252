// A device's major and minor numbers from its dev_t (stat's rdev), as glibc's major() and minor().
export function deviceNumbers(rdev: number | bigint): { major: number; minor: number } {
  const dev = Number(rdev);
  return { major: Math.floor(dev / 256) & 0xfff, minor: (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00) };
}
