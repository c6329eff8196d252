import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { schemaProblem } from "./schema-problem";

/** The parts of an OCI image config that running a container reads; other fields pass through. */
export const ImageConfigSchema = lazily(() =>
  v.looseObject({
    architecture: v.optional(v.string()),
    os: v.optional(v.string()),
    created: v.optional(v.string()),
    config: v.optional(
      v.looseObject({
        Env: v.optional(v.nullable(v.array(v.string()))),
        Cmd: v.optional(v.nullable(v.array(v.string()))),
        Entrypoint: v.optional(v.nullable(v.array(v.string()))),
        WorkingDir: v.optional(v.nullable(v.string())),
        User: v.optional(v.nullable(v.string())),
        Labels: v.optional(v.nullable(v.record(v.string(), v.string()))),
        StopSignal: v.optional(v.nullable(v.string())),
        Volumes: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
        /** HEALTHCHECK: Test is ["CMD-SHELL", cmd], ["CMD", argv...] or ["NONE"]; times in ns */
        Healthcheck: v.optional(
          v.nullable(
            v.looseObject({
              Test: v.optional(v.nullable(v.array(v.string()))),
              Interval: v.optional(v.number()),
              Timeout: v.optional(v.number()),
              StartPeriod: v.optional(v.number()),
              StartInterval: v.optional(v.number()),
              Retries: v.optional(v.number()),
            }),
          ),
        ),
      }),
    ),
    rootfs: v.object({
      type: v.literal("layers"),
      diff_ids: v.array(v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, "diff_id must be sha256:<64 hex>"))),
    }),
    history: v.optional(v.array(v.record(v.string(), v.unknown()))),
  }),
);

export type ImageConfig = v.InferOutput<typeof ImageConfigSchema>;

export function parseImageConfig(text: string, origin: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`image config of ${origin} is not JSON`, { cause: e });
  }
  const r = v.safeParse(ImageConfigSchema, json);
  if (!r.success) throw new Error(`image config of ${origin} is invalid: ${schemaProblem(r.issues)}`);
  return r.output;
}
