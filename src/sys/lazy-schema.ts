// A schema that is built the first time it parses something. A module's schemas were built when
// the module loaded: `hull run` built 436 and used 140, `hull ps` built 221 before it read a record,
// and on a host where every page a process first writes costs ~10 µs (a VM with shadow page
// tables), 650 valibot schemas cost 6.5 ms.
import { type GenericSchema, type LazySchema, lazy } from "valibot";

/** MAKE's schema, made on the first parse and kept. */
export function lazily<T extends GenericSchema>(make: () => T): LazySchema<T> {
  let made: T | undefined;
  return lazy(() => {
    made ??= make();
    return made;
  });
}
