// Go text/template as docker's --format uses it: the examples of docker's documentation
// (docs/config/formatting.md, the inspect and ps references) and Go's own rules, against
// hand-written data shaped as docker's inspect output.
import { describe, expect, test } from "bun:test";
import { labelFields, renderListing, tabulate } from "../src/cli/listing";
import { parseTemplate, sprintf, TemplateError } from "../src/cli/template";

const ctr = {
  Id: "4fa6e0f0c6786287e131c3852c58a2e01cc697a68231826813597e4994f1d6e2",
  Name: "/web",
  Args: ["-c", "sleep 1000"],
  State: { Status: "running", Running: true, Paused: false, ExitCode: 0, Pid: 1234, Health: null },
  Config: {
    Image: "busybox",
    Env: ["PATH=/usr/bin", "A=1"],
    Labels: { "com.example.vendor": "ACME", tier: "web" },
    Cmd: ["sh", "-c", "sleep 1000"],
  },
  LogPath: "/store/containers/4fa6/json.log",
  Mounts: [{ Type: "volume", Name: "data", Source: "/vol/data", Destination: "/data", RW: true }],
  NetworkSettings: {
    Networks: { appnet: { IPAddress: "10.89.0.2", MacAddress: "02:42:0a:59:00:02" } },
    Ports: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }], "443/tcp": [{ HostIp: "", HostPort: "8443" }] },
  },
};
const run = (t: string, data: unknown = ctr) => parseTemplate(t).execute(data);

describe("docker's documented templates", () => {
  test("inspect", () => {
    expect(run("{{.State.Running}}")).toBe("true");
    expect(run("{{.State.ExitCode}}")).toBe("0");
    expect(run("{{.Config.Image}}")).toBe("busybox");
    expect(run("{{.LogPath}}")).toBe("/store/containers/4fa6/json.log");
    expect(run("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")).toBe("10.89.0.2");
    expect(run("{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}")).toBe("02:42:0a:59:00:02");
    expect(run("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}")).toBe(
      " 443/tcp -> 8443  80/tcp -> 8080 ",
    );
    expect(JSON.parse(run("{{json .Config}}"))).toEqual(ctr.Config);
    expect(run("{{json .Mounts}}")).toBe(JSON.stringify(ctr.Mounts));
  });
  test("docker's functions", () => {
    expect(run('{{join .Args " , "}}')).toBe("-c , sleep 1000");
    expect(run("{{lower .State.Status}} {{upper .State.Status}} {{title .State.Status}}")).toBe(
      "running RUNNING Running",
    );
    expect(run('{{split .Config.Image "b"}}')).toBe("[ usy ox]");
    expect(run("{{pad .Config.Image 2 3}}|")).toBe("  busybox   |");
    expect(run("{{truncate .Config.Image 4}}")).toBe("busy");
    expect(run('{{index .Config.Labels "com.example.vendor"}}')).toBe("ACME");
    expect(run("{{len .Config.Env}} {{len .Config.Image}} {{len .Config.Labels}}")).toBe("2 7 2");
  });
  test("listings: a template per row, table with docker's headers, json, .Label", () => {
    const rows = [
      { ID: "4fa6e0f0c678", Names: "web", Command: '"sleep 1000"', ...labelFields({ tier: "web" }) },
      { ID: "0123456789ab", Names: "db", Command: '"postgres"', ...labelFields({}) },
    ];
    const headers = { ID: "CONTAINER ID", Names: "NAMES", Command: "COMMAND", Labels: "LABELS" };
    const dflt = () => "DEFAULT";
    expect(renderListing("{{.ID}}: {{.Command}}", rows, headers, dflt)).toBe(
      '4fa6e0f0c678: "sleep 1000"\n0123456789ab: "postgres"',
    );
    expect(renderListing("table {{.ID}}\\t{{.Names}}", rows, headers, dflt)).toBe(
      "CONTAINER ID   NAMES\n4fa6e0f0c678   web\n0123456789ab   db",
    );
    expect(renderListing('{{.Names}}={{.Label "tier"}}', rows, headers, dflt)).toBe("web=web\ndb=");
    expect(renderListing("{{.Labels}}", rows, headers, dflt)).toBe("tier=web\n");
    expect(
      renderListing("json", rows, headers, dflt)
        .split("\n")
        .map((l) => JSON.parse(l).Names),
    ).toEqual(["web", "db"]);
    expect(renderListing("{{json .}}", rows.slice(0, 1), headers, dflt)).toBe(
      '{"ID":"4fa6e0f0c678","Names":"web","Command":"\\"sleep 1000\\"","Labels":"tier=web"}',
    );
    expect(renderListing(undefined, rows, headers, dflt)).toBe("DEFAULT");
    expect(renderListing("table", rows, headers, dflt)).toBe("DEFAULT");
    // no rows: nothing, or a table's header alone
    expect(renderListing("{{.ID}}", [], headers, dflt)).toBe("");
    expect(renderListing("table {{.ID}}", [], headers, dflt)).toBe("CONTAINER ID");
  });
  test("tabwriter: at least 10 wide, 3 apart, the last cell as it is", () => {
    expect(tabulate("a\tb\tc\nlonger-than-ten\tx\ty")).toBe(
      "a                 b         c\nlonger-than-ten   x         y",
    );
  });
});

describe("Go's rules", () => {
  test("missing map keys print <no value>; through them is an error", () => {
    expect(run("{{.Nope}}")).toBe("<no value>");
    expect(run("{{.State.Health}}")).toBe("<nil>");
    expect(() => run("{{.Nope.Deeper}}")).toThrow("nil pointer evaluating interface {}.Deeper");
    expect(() => run("{{.Args.X}}")).toThrow("can't evaluate field X");
  });
  test("if / else if / else, with, range and its else, and/or/not, comparisons", () => {
    expect(run("{{if .State.Running}}running{{else}}stopped{{end}}")).toBe("running");
    expect(run("{{if .State.Paused}}p{{else if eq .State.Status `running`}}r{{else}}x{{end}}")).toBe("r");
    expect(run("{{with .State}}{{.Pid}}{{end}}")).toBe("1234");
    expect(run("{{with .State.Health}}h{{else}}none{{end}}")).toBe("none");
    expect(run("{{range .Nope}}x{{else}}empty{{end}}")).toBe("empty");
    expect(run("{{range $i, $e := .Config.Env}}{{$i}}={{$e}};{{end}}")).toBe("0=PATH=/usr/bin;1=A=1;");
    expect(run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}")).toBe("com.example.vendor:ACME tier:web ");
    expect(run("{{range .Config.Env}}{{if eq . `A=1`}}{{break}}{{end}}{{.}} {{end}}")).toBe("PATH=/usr/bin ");
    expect(run('{{or .Nope "fallback"}} {{and .State.Running .Config.Image}} {{not .State.Running}}')).toBe(
      "fallback busybox false",
    );
    expect(run("{{eq .State.ExitCode 0}} {{ne .Config.Image `x`}} {{lt 1 2}} {{ge 2.5 3}} {{eq `a` `b` `a`}}")).toBe(
      "true true true false true",
    );
    expect(() => run("{{lt 1 `a`}}")).toThrow("incompatible types");
  });
  test("variables, pipelines, parentheses, trimming, comments, literals", () => {
    expect(run("{{$n := .Config.Image}}{{$n}}-{{$}}".replace("{{$}}", "{{$.State.Status}}"))).toBe("busybox-running");
    expect(run('{{.Config.Image | printf "%s!"}}')).toBe("busybox!");
    expect(run("{{.Config.Env | len}}")).toBe("2");
    expect(run("{{(index .Mounts 0).Destination}}")).toBe("/data");
    expect(run("a  {{- .Config.Image -}}  b")).toBe("abusyboxb");
    expect(run("x{{/* a comment */}}y{{- /* trimmed */ -}}  z")).toBe("xyz");
    expect(run('{{"a\\tb"}}|{{`raw\\t`}}|{{print 1 2 "a" 3}}|{{println "x" 1}}')).toBe("a\tb|raw\\t|1 2a3|x 1\n");
    expect(run("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}")).toBe("2");
    expect(run("{{.Config.Labels}} {{.Config.Env}}")).toBe("map[com.example.vendor:ACME tier:web] [PATH=/usr/bin A=1]");
    expect(run("{{1.5}} {{0x10}} {{-3}} {{true}} {{nil}}".replace(" {{nil}}", ""))).toBe("1.5 16 -3 true");
  });
  test("printf's verbs", () => {
    expect(sprintf("%s|%5s|%-5s|%q|%d|%05d|%x|%t|%v|%%", ["a", "b", "c", "d", 42, 42, 255, true, [1, 2]])).toBe(
      'a|    b|c    |"d"|42|00042|ff|true|[1 2]|%',
    );
    expect(sprintf("%.2f %5.1f %e", [1.23456, 2.26, 1234.5])).toBe("1.23   2.3 1.234500e+03");
    expect(sprintf("%d %s", [1])).toBe("1 %!s(MISSING)");
  });
  test("hostile templates: no JavaScript error, no prototype, no runaway memory", () => {
    for (const [t, says] of [
      ['{{call (index . "constructor") 1}}', "non-function"],
      ['{{printf "%.*f" 20000 1.0}}', "not a count"],
      ['{{printf "%*d" 1000000000000 1}}', "not a count"],
      ["{{pad .Config.Image -1 0}}", "not a count"],
      ["{{slice .Config.Image 1.5}}", "non-integer"],
    ] as const)
      expect(() => run(t), t).toThrow(says);
    expect(run('{{index . "constructor"}}|{{.constructor}}|{{.__proto__}}')).toBe("<no value>|<no value>|<no value>");
    expect(run("{{range $i := 3}}{{$i}}{{end}}")).toBe("012");
    // a huge range is lazy: the first few, then break
    expect(run("{{range $i := 100000000000}}{{if eq $i 2}}{{break}}{{end}}{{$i}}{{end}}")).toBe("01");
    const rows = [{ Names: "a", ...labelFields({ k: "v" }) }];
    expect(renderListing('{{.Label "__proto__"}}|{{.Label "constructor"}}|{{.Label "k"}}', rows, {}, () => "")).toBe(
      "||v",
    );
    // any other JavaScript error of a function is still the template's error
    expect(() =>
      parseTemplate("{{call .F}}").execute({
        F: () => {
          throw new RangeError("deep");
        },
      }),
    ).toThrow(TemplateError);
  });

  test("errors name what is wrong", () => {
    expect(() => parseTemplate("{{.State.Running")).toThrow(TemplateError);
    expect(() => parseTemplate("{{if .A}}x")).toThrow("no {{end}}");
    expect(() => parseTemplate("{{end}}")).toThrow("unexpected {{end}}");
    expect(() => run("{{nosuch .A}}")).toThrow('function "nosuch" not defined');
    expect(() => run("{{$y}}")).toThrow("undefined variable: $y");
    expect(() => run('{{join .Config.Image ","}}')).toThrow("error calling join");
  });
});
