import { login, logout } from "../../image/login";
import type { HullCommand } from "../command";
import { print } from "../output";

export const loginCommand: HullCommand = {
  meta: { name: "login", description: "Log in to a registry: hull login [-u USER] [-p PASS | --password-stdin] HOST" },
  args: {
    host: { type: "positional", description: "Registry host (docker.io by default)", required: false },
    username: { type: "string", alias: "u", description: "User name" },
    password: { type: "string", alias: "p", description: "Password (prefer --password-stdin)" },
    "password-stdin": { type: "boolean", description: "Read the password from standard input" },
  },
  async run({ args }) {
    const host = String(args.host ?? "docker.io");
    const username = typeof args.username === "string" ? args.username : "";
    let password = typeof args.password === "string" ? args.password : "";
    if (args["password-stdin"]) password = (await Bun.stdin.text()).replace(/\r?\n$/, "");
    if (!username || !password) throw new Error("hull login needs -u USER and -p PASS or --password-stdin");
    const file = await login(host, { username, password });
    print(`Login Succeeded (credentials in ${file})`);
  },
};

export const logoutCommand: HullCommand = {
  meta: { name: "logout", description: "Forget a registry's credentials: hull logout HOST" },
  args: { host: { type: "positional", description: "Registry host (docker.io by default)", required: false } },
  async run({ args }) {
    const host = String(args.host ?? "docker.io");
    print(logout(host) ? `Removed login credentials for ${host}` : `Not logged in to ${host}`);
  },
};
