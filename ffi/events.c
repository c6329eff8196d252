/* A container's events that only the shim sees happen (src/store/events.ts writes the others): its
 * end ("die", with the exit code) and, for --rm, its removal ("destroy"), appended to the store's
 * journal (HULL_REC_EVENTS_FILE) as docker's JSON lines. The parts that need escaping (the image, the
 * attributes) come ready-made in the message (HULL_REC_EVENT_FROM, HULL_REC_EVENT_ATTRS). */
#include "shim.h"

void event_emit(const char *action, int exit_code) {
  if (!cfg.events_file || !cfg.id) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char code[40] = "";
  if (exit_code >= 0) snprintf(code, sizeof code, "%s\"exitCode\":\"%d\"", cfg.event_attrs && *cfg.event_attrs ? "," : "", exit_code);
  char line[8192];
  int n = snprintf(line, sizeof line,
                   "{\"status\":\"%s\",\"id\":\"%s\",\"from\":%s,\"Type\":\"container\",\"Action\":\"%s\",\"Actor\":{\"ID\":"
                   "\"%s\",\"Attributes\":{%s%s}},\"scope\":\"local\",\"time\":%lld,\"timeNano\":%lld%09ld}\n",
                   action, cfg.id, cfg.event_from ? cfg.event_from : "\"\"", action, cfg.id,
                   cfg.event_attrs ? cfg.event_attrs : "", code, (long long)ts.tv_sec, (long long)ts.tv_sec, ts.tv_nsec);
  if (n <= 0 || n >= (int)sizeof line) return;
  int fd = open(cfg.events_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  write_all(fd, line, (size_t)n);
  close(fd);
}
