// hull's entry point: route to a command, print failures as one line, exit non-zero.
// Commands load lazily (bun build --splitting), so `hull run` pays only for what it uses.
import type { HullCommand } from "./command";
import { print, printErr } from "./output";
import { VERSION } from "./version";

const commands: Record<string, () => Promise<HullCommand>> = {
  run: () => import("./commands/run").then((m) => m.default),
  create: () => import("./commands/run").then((m) => m.create),
  ps: () => import("./commands/containers").then((m) => m.ps),
  rename: () => import("./commands/containers").then((m) => m.rename),
  diff: () => import("./commands/containers").then((m) => m.diff),
  top: () => import("./commands/containers").then((m) => m.top),
  cp: () => import("./commands/containers").then((m) => m.cp),
  __cp: () => import("./commands/internal").then((m) => m.cpCommand),
  commit: () => import("./commands/containers").then((m) => m.commit),
  "__commit-layer": () => import("./commands/internal").then((m) => m.commitLayerCommand),
  __diff: () => import("./commands/internal").then((m) => m.diffCommand),
  rm: () => import("./commands/containers").then((m) => m.rm),
  container: () => import("./commands/containers").then((m) => m.container),
  exec: () => import("./commands/exec").then((m) => m.default),
  volume: () => import("./commands/volume").then((m) => m.volume),
  logs: () => import("./commands/lifecycle").then((m) => m.logs),
  stop: () => import("./commands/lifecycle").then((m) => m.stop),
  start: () => import("./commands/lifecycle").then((m) => m.start),
  restart: () => import("./commands/lifecycle").then((m) => m.restart),
  kill: () => import("./commands/lifecycle").then((m) => m.kill),
  wait: () => import("./commands/lifecycle").then((m) => m.wait),
  pause: () => import("./commands/lifecycle").then((m) => m.pause),
  attach: () => import("./commands/lifecycle").then((m) => m.attach),
  unpause: () => import("./commands/lifecycle").then((m) => m.unpause),
  pull: () => import("./commands/pull").then((m) => m.default),
  push: () => import("./commands/push").then((m) => m.default),
  build: () => import("./commands/build").then((m) => m.build),
  builder: () => import("./commands/build").then((m) => m.builder),
  "__build-layer": () => import("./commands/internal").then((m) => m.buildLayerCommand),
  images: () => import("./commands/images").then((m) => m.default),
  image: () => import("./commands/image-manage").then((m) => m.image),
  tag: () => import("./commands/image-manage").then((m) => m.tag),
  rmi: () => import("./commands/image-manage").then((m) => m.rmi),
  history: () => import("./commands/image-manage").then((m) => m.history),
  save: () => import("./commands/archive").then((m) => m.save),
  load: () => import("./commands/archive").then((m) => m.load),
  import: () => import("./commands/archive").then((m) => m.importCommand),
  search: () => import("./commands/search").then((m) => m.default),
  login: () => import("./commands/login").then((m) => m.loginCommand),
  logout: () => import("./commands/login").then((m) => m.logoutCommand),
  doctor: () => import("./commands/doctor").then((m) => m.default),
  system: () => import("./commands/system").then((m) => m.system),
  unshare: () => import("./commands/unshare").then((m) => m.default),
  "__unpack-layer": () => import("./commands/internal").then((m) => m.unpackLayerCommand),
  version: () => import("./commands/version").then((m) => m.default),
};

const main: HullCommand = {
  meta: { name: "hull", version: VERSION, description: "Rootless, daemonless containers in one executable" },
  subCommands: commands,
};

function fail(e: unknown, debug: boolean): never {
  const err = e as Error & { exitCode?: number };
  printErr(`hull: ${err?.message ?? String(e)}`);
  if (debug) {
    let c: unknown = err;
    while (c) {
      printErr(`  ${(c as Error).stack ?? String(c)}`);
      c = (c as Error).cause;
    }
  }
  process.exit(err?.exitCode ?? 125);
}

async function usage(cmd: HullCommand, parent?: HullCommand): Promise<void> {
  const { showUsage } = await import("citty");
  await showUsage(cmd, parent);
}

export async function cli(argv: string[]): Promise<void> {
  const debug = argv[0] === "--debug";
  const args = debug ? argv.slice(1) : argv;
  const name = args[0];
  if (!name || name === "--help" || name === "-h" || name === "help") return usage(main);
  if (name === "--version") {
    print(`hull ${VERSION}`);
    return;
  }
  const load = commands[name];
  if (!load) fail(new Error(`unknown command: ${name} (see 'hull --help')`), debug);
  try {
    const cmd = await load();
    const rest = args.slice(1);
    // --help before the first positional is hull's; after it, it belongs to the container's command
    const firstPositional = rest.findIndex((a) => !a.startsWith("-"));
    const helpAt = rest.indexOf("--help");
    if (helpAt >= 0 && (firstPositional < 0 || helpAt < firstPositional)) return usage(cmd, main);
    if (cmd.ownArgs && cmd.run) {
      await cmd.run({ rawArgs: rest, args: { _: [] } as never, cmd });
      return;
    }
    const { runCommand } = await import("citty");
    await runCommand(cmd, { rawArgs: rest });
  } catch (e) {
    fail(e, debug);
  }
}

cli(process.argv.slice(2));
