/* What a native front end costs at least: a static C program that replaces itself with the
 * program doing the namespace work, as a launcher in C would before it did anything of its own. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("c-exec: give the program to exec and its arguments\n", stderr);
    return 2;
  }
  execv(argv[1], argv + 1);
  perror("c-exec: execv");
  return 127;
}
